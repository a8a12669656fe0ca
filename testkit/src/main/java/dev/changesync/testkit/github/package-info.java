/**
 * A fake GitHub REST API for tests: {@link dev.changesync.testkit.github.FakeGitHub} is a real
 * HTTP server on {@code 127.0.0.1} serving repositories, pull requests and their files in
 * GitHub's JSON shapes, with {@code Link} pagination, ETags and 304s, {@code x-ratelimit-*}
 * accounting, token and GitHub App authentication, switchable faults (latency, 5xx bursts,
 * secondary limits, rate limit exhaustion, malformed JSON, persistent 404s) and request counters.
 *
 * <pre>{@code
 * MutableClock clock = new MutableClock();
 * try (FakeGitHub fake = FakeGitHub.builder().clock(clock).start()) {
 *   FakeRepo repo = fake.createRepo("acme", "widgets");
 *   repo.openPrs(250);                       // 1-12 files each, some binary / renamed / drafts
 *   FakePr pr = repo.openPr(PrSpec.files(40).withDraft(true));
 *   pr.push();                               // new head SHA and files, updated_at moves
 *   pr.moveBase();                           // new base SHA
 *   fake.failNext(2, 502);                   // a 502 burst
 *   ... point the client at fake.baseUrl() with FakeGitHub.DEFAULT_TOKEN ...
 *   assertThat(fake.requests(RequestKind.PULLS_LIST, 304)).isEqualTo(3);
 * }
 * }</pre>
 */
package dev.changesync.testkit.github;
