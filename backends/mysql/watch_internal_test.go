package mysql

import "testing"

// TestLogLimit: a reader's log query asks for pollBatch rows until a batch
// is cut short by its byte budget, then for as many rows as held the
// budget, and doubles back towards pollBatch while batches come full
// without a cut.
func TestLogLimit(t *testing.T) {
	var l logLimit
	steps := []struct {
		rows int
		cut  bool
		want int
	}{
		{rows: 10, cut: false, want: pollBatch}, // a short batch: the log's end
		{rows: 4, cut: true, want: 4},
		{rows: 4, cut: false, want: 8},
		{rows: 3, cut: false, want: 8},
		{rows: 8, cut: false, want: 16},
		{rows: 1, cut: true, want: 1},
	}
	if l.get() != pollBatch {
		t.Fatalf("zero value: %d, want %d", l.get(), pollBatch)
	}
	for i, st := range steps {
		l.update(st.rows, st.cut)
		if l.get() != st.want {
			t.Fatalf("step %d (%d rows, cut %v): limit %d, want %d", i, st.rows, st.cut, l.get(), st.want)
		}
	}
	for range 20 {
		l.update(l.get(), false)
	}
	if l.get() != pollBatch {
		t.Fatalf("after full batches: %d, want %d", l.get(), pollBatch)
	}
}
