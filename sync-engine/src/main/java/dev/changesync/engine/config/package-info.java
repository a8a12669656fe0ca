/**
 * Configuration of a changesync process (SPEC §6): {@link
 * dev.changesync.engine.config.ChangesyncConfig} parses and validates every {@code CHANGESYNC_*}
 * variable — and the same settings as {@code --flags} — in one place, shared by the server, the CLI
 * and the embedding API. A bad value stops start-up with a {@link
 * dev.changesync.engine.config.ConfigException} naming the variable and the value; secrets are
 * {@link dev.changesync.engine.config.Secret}s and never printed.
 */
package dev.changesync.engine.config;
