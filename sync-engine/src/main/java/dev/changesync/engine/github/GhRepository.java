package dev.changesync.engine.github;

/** A repository as GitHub describes it (the fields changesync uses). */
public record GhRepository(
    long id, String owner, String name, String fullName, String defaultBranch) {}
