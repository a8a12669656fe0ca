-- A claim+release cycle in bare SQL: the conditional claim UPDATE of a random row, then its inverse.
\set id random(1, 10000)
update lease set owner = 'w' || :client_id, token = token + 1, heartbeat_at = now(),
       expires_at = now() + interval '15 minutes'
 where id = :id and (expires_at is null or expires_at <= now() or owner = 'w' || :client_id);
update lease set owner = null, heartbeat_at = null, expires_at = null
 where id = :id and owner = 'w' || :client_id;
