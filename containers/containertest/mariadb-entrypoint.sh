#!/bin/sh
# Entrypoint of the k3-storage test MariaDB image (busybox sh). From a
# client's point of view it behaves like the official mysql image's:
# on first start (no mysql/ in the data dir) it initialises the data dir with
# root@'%' and root@localhost identified by MYSQL_ROOT_PASSWORD, creates
# MYSQL_DATABASE, and creates MYSQL_USER/MYSQL_PASSWORD with all privileges
# on that database; then it runs mariadbd on 0.0.0.0:3306.
set -eu

DATADIR=/var/lib/mysql
SHARE=/usr/share/mysql
OPTS="--no-defaults --user=root --datadir=$DATADIR --lc-messages-dir=$SHARE --character-sets-dir=$SHARE/charsets --socket=/run/mysqld/mysqld.sock --pid-file=/run/mysqld/mysqld.pid --innodb-log-file-size=16M --skip-name-resolve"

case "${1:-}" in
mariadbd | mysqld) shift ;;
esac

# sql_string quotes $1 as an SQL string literal.
sql_string() {
	printf "'%s'" "$(printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e "s/'/''/g")"
}

# sql_ident quotes $1 as an SQL identifier.
sql_ident() {
	printf '`%s`' "$(printf '%s' "$1" | sed -e 's/`/``/g')"
}

if [ ! -d "$DATADIR/mysql" ]; then
	if [ -z "${MYSQL_ROOT_PASSWORD:-}" ] && [ -z "${MYSQL_ALLOW_EMPTY_PASSWORD:-}" ]; then
		echo >&2 "error: database is uninitialized and MYSQL_ROOT_PASSWORD is not set"
		exit 1
	fi
	if [ "${MYSQL_USER:-}" = root ]; then
		echo >&2 "error: MYSQL_USER and MYSQL_PASSWORD are for a regular user, not root"
		exit 1
	fi
	echo >&2 "entrypoint: initialising $DATADIR"
	init="$DATADIR/.k3init"
	rm -rf "$init"
	mkdir -p "$init"
	root_pw=$(sql_string "${MYSQL_ROOT_PASSWORD:-}")
	{
		echo "CREATE DATABASE IF NOT EXISTS mysql;"
		echo "USE mysql;"
		echo "SET @auth_root_socket=NULL;"
		cat "$SHARE/mysql_system_tables.sql" "$SHARE/mysql_performance_tables.sql" \
			"$SHARE/mysql_system_tables_data.sql" "$SHARE/maria_add_gis_sp_bootstrap.sql"
		echo "FLUSH PRIVILEGES;"
		echo "DELETE FROM mysql.global_priv WHERE User='root' AND Host<>'localhost';"
		echo "DELETE FROM mysql.proxies_priv WHERE User='root' AND Host<>'localhost';"
		echo "ALTER USER 'root'@'localhost' IDENTIFIED BY $root_pw;"
		echo "CREATE USER 'root'@'%' IDENTIFIED BY $root_pw;"
		echo "GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;"
		if [ -n "${MYSQL_DATABASE:-}" ]; then
			echo "CREATE DATABASE IF NOT EXISTS $(sql_ident "$MYSQL_DATABASE");"
		fi
		if [ -n "${MYSQL_USER:-}" ]; then
			echo "CREATE USER $(sql_string "$MYSQL_USER")@'%' IDENTIFIED BY $(sql_string "${MYSQL_PASSWORD:-}");"
			if [ -n "${MYSQL_DATABASE:-}" ]; then
				echo "GRANT ALL ON $(sql_ident "$MYSQL_DATABASE").* TO $(sql_string "$MYSQL_USER")@'%';"
			fi
		fi
	} | mariadbd $OPTS --datadir="$init" --bootstrap --log-warnings=0 --enforce-storage-engine= \
		--max_allowed_packet=8M --net_buffer_length=16K
	# Move the finished data dir in place, mysql/ last: its presence means
	# the data dir is complete; an interrupted init is redone from scratch.
	for f in "$init"/*; do
		if [ "$f" != "$init/mysql" ]; then
			rm -rf "$DATADIR/${f##*/}"
			mv "$f" "$DATADIR/"
		fi
	done
	mv "$init/mysql" "$DATADIR/"
	rmdir "$init"
	echo >&2 "entrypoint: initialised"
fi

exec mariadbd $OPTS --bind-address=0.0.0.0 --port=3306 "$@"
