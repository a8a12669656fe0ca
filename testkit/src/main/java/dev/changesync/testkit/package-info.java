/**
 * Shared test fixtures for changesync modules; a test-scope dependency only, never in a production
 * jar.
 *
 * <p>{@link dev.changesync.testkit.PostgresDatabase} provisions PostgreSQL databases for tests: one
 * throw-away database per test class, cloned from a template that an initializer (usually {@code
 * Migrations::migrate}) prepares once per JVM. This module does not depend on {@code migrations};
 * callers pass the initializer, which keeps the migrations module free to use these fixtures in its
 * own tests.
 *
 * <p>Where the server comes from, in order: {@code CHANGESYNC_TEST_DATABASE_URL} (a JDBC URL of a
 * maintenance database, e.g. {@code jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres});
 * Testcontainers ({@code postgres:15-alpine}) when Docker is available; otherwise tests fail with a
 * message saying how to provide one. They never skip. Every database made here is named {@code
 * changesync_test_*} and dropped by the JVM that made it (per class after the class, templates at
 * JVM exit); CI sweeps leftovers of killed JVMs by that prefix. The server must be PostgreSQL 13 or
 * newer ({@code drop database ... with (force)}).
 */
package dev.changesync.testkit;
