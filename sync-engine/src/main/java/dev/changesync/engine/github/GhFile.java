package dev.changesync.engine.github;

import java.util.Optional;

/**
 * One changed file of a pull request. {@code patch} is absent for binary files and for files too
 * large for GitHub to diff, which is normal; {@code previousFilename} is present for renames.
 */
public record GhFile(
    String filename,
    Optional<String> previousFilename,
    String status,
    int additions,
    int deletions,
    int changes,
    Optional<String> sha,
    Optional<String> patch) {}
