-- Stands in for a migration that a newer changesync build applied (MigrationsTest).
create table from_the_future (id bigint primary key);
