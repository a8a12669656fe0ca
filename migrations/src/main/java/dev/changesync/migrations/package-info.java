/**
 * The changesync database schema as Flyway migrations ({@code db/migration/V*__*.sql}) and the
 * calls that apply and check it: {@link dev.changesync.migrations.Migrations} for code (server
 * start-up, {@code /readyz}, the CLI's {@code migrate}), {@link
 * dev.changesync.migrations.MigrationsMain} for a shell.
 *
 * <p>Migrations are append-only: once a version is released its file never changes (Flyway checks
 * the checksum), and a change to the schema is a new, higher version. Code refuses a database whose
 * schema is newer than the migrations it ships.
 */
package dev.changesync.migrations;
