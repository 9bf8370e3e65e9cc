package containers

import (
	"os"
	"strings"
	"testing"
)

// testdata/pull-fresh.jsonl is the stream Docker Engine 20.10 sent for a
// fresh pull of the four-layer test MariaDB image from a loopback registry.
// Small layers go from "Pulling fs layer" to "Download complete" without any
// "Downloading" message; their size shows up only while extracting.
func TestDecodeRecordedPull(t *testing.T) {
	f, err := os.Open("testdata/pull-fresh.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got []Progress
	base := Progress{Container: "c", Image: "img"}
	totals, err := decodePull(f, func(p Progress) { got = append(got, p) }, base)
	if err != nil {
		t.Fatalf("decodePull: %v", err)
	}
	// Layer sizes as the stream gives them (Downloading/Extracting totals).
	sizes := map[string]int64{"ef93d12216c0": 1150207, "706878fa0450": 7298049, "df9e0673bfc6": 9458213, "e2a248befb90": 75396}
	var sum int64
	for _, s := range sizes {
		sum += s
	}
	if totals.Layers != 4 || totals.LayersDone != 4 || totals.Unknown != 0 || !totals.Complete() {
		t.Errorf("totals = %+v, want 4 of 4 layers done, none unknown", totals)
	}
	if totals.Total != sum || totals.Current != sum || totals.Percent() != 100 {
		t.Errorf("totals bytes = %d/%d (%.1f%%), want %d/%d", totals.Current, totals.Total, totals.Percent(), sum, sum)
	}
	var prev PullTotals
	seen := map[string]bool{}
	for i, p := range got {
		if p.Step != StepPull || p.Container != "c" || p.Image != "img" {
			t.Fatalf("report %d = %+v: want StepPull for c/img", i, p)
		}
		if _, ok := sizes[p.Layer]; !ok {
			t.Fatalf("report %d names layer %q, not one of the image's (the tag line is not a layer)", i, p.Layer)
		}
		seen[p.Layer] = true
		a := p.Aggregate
		if a.Current < prev.Current || a.LayersDone < prev.LayersDone || a.Layers < prev.Layers {
			t.Errorf("report %d: aggregate went back from %+v to %+v", i, prev, a)
		}
		if a.Total > 0 && a.Current > a.Total {
			t.Errorf("report %d: aggregate %d of %d bytes", i, a.Current, a.Total)
		}
		if p.Status == "Downloading" && (p.Total <= 0 || p.Current <= 0 || p.Current > p.Total) {
			t.Errorf("report %d: Downloading %d/%d", i, p.Current, p.Total)
		}
		prev = a
	}
	if len(seen) != 4 {
		t.Errorf("layers reported: %v, want 4", seen)
	}
	if last := got[len(got)-1]; last.Status != "Pull complete" || !last.Aggregate.Complete() {
		t.Errorf("last report = %+v, want the last Pull complete with all layers done", last)
	}
	// While the biggest layer downloaded, the smallest one's size was still
	// unknown (it never sends Downloading): the percentage must say unknown
	// rather than a wrong number.
	for _, p := range got {
		if p.Layer == "df9e0673bfc6" && p.Status == "Downloading" {
			if p.Aggregate.Unknown == 0 || p.Aggregate.Percent() != -1 {
				t.Errorf("aggregate %+v during the download should have an unknown size", p.Aggregate)
			}
			break
		}
	}
}

func TestDecodePullAlreadyExists(t *testing.T) {
	stream := `{"status":"Pulling from library/mysql","id":"8.0"}
{"status":"Already exists","progressDetail":{},"id":"aaaaaaaaaaaa"}
{"status":"Pulling fs layer","progressDetail":{},"id":"bbbbbbbbbbbb"}
{"status":"Downloading","progressDetail":{"current":100,"total":400},"id":"bbbbbbbbbbbb"}
{"status":"Downloading","progressDetail":{"current":400,"total":400},"id":"bbbbbbbbbbbb"}
{"status":"Download complete","progressDetail":{},"id":"bbbbbbbbbbbb"}
{"status":"Extracting","progressDetail":{"current":400,"total":400},"id":"bbbbbbbbbbbb"}
{"status":"Pull complete","progressDetail":{},"id":"bbbbbbbbbbbb"}
{"status":"Digest: sha256:0000"}
{"status":"Status: Downloaded newer image for mysql:8.0"}
`
	var got []Progress
	totals, err := decodePull(strings.NewReader(stream), func(p Progress) { got = append(got, p) }, Progress{})
	if err != nil {
		t.Fatal(err)
	}
	if totals != (PullTotals{Layers: 2, LayersDone: 2, Current: 400, Total: 400}) {
		t.Errorf("totals = %+v", totals)
	}
	if len(got) != 7 || got[0].Status != "Already exists" || got[0].Aggregate.LayersDone != 1 {
		t.Errorf("reports = %+v", got)
	}
	if a := got[2].Aggregate; a.Current != 100 || a.Total != 400 || a.Percent() != 25 {
		t.Errorf("aggregate after first Downloading = %+v", a)
	}
}

func TestDecodePullFailures(t *testing.T) {
	tests := []struct {
		name, stream, want string
	}{
		{"errorDetail mid-stream", `{"status":"Pulling fs layer","progressDetail":{},"id":"aaaaaaaaaaaa"}
{"status":"Downloading","progressDetail":{"current":1,"total":9},"id":"aaaaaaaaaaaa"}
{"errorDetail":{"message":"layers from manifest don't match image configuration"},"error":"layers from manifest don't match image configuration"}
{"status":"Pull complete","progressDetail":{},"id":"aaaaaaaaaaaa"}
`, "layers from manifest don't match image configuration"},
		{"bare error field", `{"error":"toomanyrequests"}`, "toomanyrequests"},
		{"stream cut short", `{"status":"Pulling fs layer","progressDetail":{},"id":"aaaaaaaaaaaa"}
{"status":"Downloading","progressDetail":{"current":1,"total":9},"id":"aaaaaaaaaaaa"}
`, "0 of 1 layers done"},
		{"garbage", `{"status":"Pulling fs layer","id":"a"}` + "\n<html>", "read pull progress"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := 0
			_, err := decodePull(strings.NewReader(tt.stream), func(Progress) { n++ }, Progress{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one saying %q", err, tt.want)
			}
		})
	}
}
