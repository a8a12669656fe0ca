/**
 * The sync engine of changesync. {@link dev.changesync.engine.Changesync} is the way in: it starts
 * and closes the whole engine and hands out the services of {@link dev.changesync.engine.service};
 * the parts live in {@link dev.changesync.engine.lease} (the PostgreSQL lease store), {@link
 * dev.changesync.engine.github} (the GitHub client), {@link dev.changesync.engine.sync} (lanes and
 * worker) and {@link dev.changesync.engine.config} (the process configuration).
 */
package dev.changesync.engine;
