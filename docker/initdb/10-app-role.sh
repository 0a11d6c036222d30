#!/bin/sh
# First start of the db service only (the postgres image runs /docker-entrypoint-initdb.d
# on an empty volume): the role the app connects as. It owns the database and its public
# schema, so its migrations create the tables it owns (and the close's VACUUM FULL may
# rewrite them), but it is no superuser: it cannot read other databases' files, load
# extensions, run programs on the server or change roles.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v app_user="$PHIEUKIN_DB_USER" -v app_password="$PHIEUKIN_DB_PASSWORD" \
    -v db="$POSTGRES_DB" <<'SQL'
CREATE ROLE :"app_user" LOGIN PASSWORD :'app_password'
    NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
ALTER DATABASE :"db" OWNER TO :"app_user";
ALTER SCHEMA public OWNER TO :"app_user";
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"db" TO :"app_user";
SQL
