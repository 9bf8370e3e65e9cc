// Package difftest holds only tests: a differential property test that runs
// the same random operation sequences against fresh memory, MySQL and etcd
// stores at once and compares every result and every watch event, so that
// the three backends implement one contract, not three similar ones.
//
//	go test ./backends/difftest -run TestDifferential -v \
//	    -k3.fuzz.seqs=2000 -k3.fuzz.ops=200 -k3.fuzz.seed=7
//
// Sequence i of a run uses the seed -k3.fuzz.seed + i; a failure names it,
// and -k3.fuzz.seqs=1 with that seed replays just that sequence. MySQL is
// the server of K3_TEST_MYSQL_DSN (see package mysqltest; without it the
// test skips, or fails under K3_TEST_REQUIRE); etcd runs in-process.
package difftest
