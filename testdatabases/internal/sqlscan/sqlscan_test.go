package sqlscan

import "testing"

func TestClassify(t *testing.T) {
	cases := []struct {
		sql   string
		mysql bool
		want  Flags
		not   Flags
	}{
		{"BEGIN", false, TxControl, 0},
		{"  commit;", false, TxControl, 0},
		{"START TRANSACTION READ ONLY", true, TxControl, 0},
		{"rollback to savepoint a", false, TxControl, 0},
		{"SELECT 1; COMMIT", false, TxControl, 0},
		{"SELECT 'COMMIT'", false, 0, TxControl},
		{"SELECT $$ COMMIT $$", false, 0, TxControl},
		{"SELECT $tag$ ; COMMIT; $tag$", false, 0, TxControl},
		{"SELECT $1, $2", false, Write, TxControl},
		{"-- COMMIT\nSELECT 1", false, 0, TxControl},
		{"/* COMMIT /* nested */ COMMIT */ SELECT 1", false, 0, TxControl},
		{"# COMMIT\nSELECT 1", true, 0, TxControl},
		{"SELECT `commit` FROM t", true, 0, TxControl},
		{"SELECT 'it''s; COMMIT'", false, 0, TxControl},
		// With NO_BACKSLASH_ESCAPES the string ends at the second quote.
		{`SELECT 'a\'; COMMIT'`, true, TxControl, 0},
		{"SELECT 'a''; COMMIT'", true, 0, TxControl},
		{"CREATE TABLE t (id int)", true, ImplicitCommit | DDL, 0},
		{"create temporary table t (id int)", true, SessionState, ImplicitCommit},
		{"ALTER TABLE t ADD c int", true, ImplicitCommit | DDL, 0},
		{"TRUNCATE t", true, ImplicitCommit, 0},
		{"LOCK TABLES t WRITE", true, ImplicitCommit, 0},
		{"CREATE TABLE t (id int)", false, DDL | Write, ImplicitCommit},
		{"SET @x = 1", true, SessionState, 0},
		{"SET autocommit = 1", true, ImplicitCommit, 0},
		{"SET search_path TO x", false, 0, SessionState},
		{"SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", false, TxControl, 0},
		{"PREPARE p AS SELECT 1", false, SessionState, 0},
		{"PREPARE TRANSACTION 'x'", false, TxControl, 0},
		{"INSERT INTO t VALUES (1)", true, Write, ImplicitCommit},
		{"CALL p()", true, Call, 0},
		{"SHOW CREATE TABLE t", true, Introspect, Write},
		{"show table status like 't'", true, Introspect, 0},
		{"SHOW TABLES", true, 0, Introspect},
		{"SHOW CREATE TABLE t", false, 0, Introspect},
		{"truncate table t", true, ImplicitCommit | DDL, SessionState},
		{"DROP TEMPORARY TABLE t", true, SessionState, ImplicitCommit | DDL},
		{"DO GET_LOCK('x', 0)", true, Write, Call},
		{"WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x", false, Write, 0},
		{"BEGIN NOT ATOMIC SELECT 1; END", true, Call, 0},
		{"", false, 0, TxControl | Write},
		{";;", true, 0, TxControl | Write},
		// MySQL 8 statements that commit implicitly (sql_command_flags
		// CF_AUTO_COMMIT_TRANS), not only "may commit" like a procedure.
		{"IMPORT TABLE FROM '/tmp/t.sdi'", true, ImplicitCommit, 0},
		{"CLONE LOCAL DATA DIRECTORY = '/tmp/c'", true, ImplicitCommit, 0},
		{"RESTART", true, ImplicitCommit, 0},
	}
	for _, c := range cases {
		got := Classify(c.sql, c.mysql)
		if got&c.want != c.want || got&c.not != 0 {
			t.Errorf("Classify(%q, mysql=%v) = %b, want bits %b set and %b clear", c.sql, c.mysql, got, c.want, c.not)
		}
	}
}

func TestClassifySplitsStatements(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		sql   string
		mysql bool
		want  Flags
	}{
		{"select 1; insert into t values ('a;b'); ; commit", false, Write | TxControl},
		{"select 1; insert into t values ('a;b')", false, Write},
		{"show tables; show create table t", true, Introspect},
		{"select 1;;", true, Write},
	} {
		if got := Classify(c.sql, c.mysql); got != c.want {
			t.Errorf("Classify(%q, mysql=%v) = %b, want %b", c.sql, c.mysql, got, c.want)
		}
	}
}
