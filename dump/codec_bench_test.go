package dump

import (
	"bytes"
	"fmt"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/k3/k3-storage/backends"
)

// The codec alone, on codecKeys keys held in memory, against yaml.v3
// doing the same work: why the format has its own encoder and decoder.
// yaml.v3 has no streaming mode for one document, so it also needs the
// whole file and every entry in memory (see allocs and B/op).
//
//	go test -run '^$' -bench Codec ./dump/
const codecKeys = 100_000

func codecData() []backends.KeyValue {
	kvs := make([]backends.KeyValue, codecKeys)
	for i := range kvs {
		kvs[i] = backends.KeyValue{
			Key:            fmt.Sprintf("/registry/pods/ns-%03d/pod-%07d", i%1000, i),
			Value:          fmt.Appendf(nil, `{"kind":"Pod","apiVersion":"v1","metadata":{"name":"pod-%07d"}}`, i),
			CreateRevision: int64(i + 1), ModRevision: int64(i + 1), Version: 1,
		}
	}
	return kvs
}

func BenchmarkCodecEncode(b *testing.B) {
	kvs := codecData()
	b.Run("own", func(b *testing.B) {
		var buf []byte
		for b.Loop() {
			buf = encodeInto(buf[:0], kvs)
		}
		b.SetBytes(int64(len(buf)))
	})
	b.Run("yaml.v3", func(b *testing.B) {
		f := refFile{Format: FormatVersion, Revision: 1, Count: codecKeys, Keys: make([]refEntry, len(kvs))}
		for i, kv := range kvs {
			f.Keys[i] = refEntry{Key: kv.Key, Value: string(kv.Value), Meta: refMeta{kv.CreateRevision, kv.ModRevision, kv.Version}}
		}
		var n int
		for b.Loop() {
			out, err := yaml.Marshal(&f)
			if err != nil {
				b.Fatal(err)
			}
			n = len(out)
		}
		b.SetBytes(int64(n))
	})
}

// encodeInto appends an export of kvs to b.
func encodeInto(b []byte, kvs []backends.KeyValue) []byte {
	b = appendHeader(b, ExportOptions{}, 1)
	b = append(b, "keys:\n"...)
	var scratch []byte
	for i := range kvs {
		b, scratch = appendEntry(b, scratch, &kvs[i], false)
	}
	return appendInt(b, fieldCount, int64(len(kvs)))
}

func BenchmarkCodecDecode(b *testing.B) {
	data := encodeInto(nil, codecData())
	b.Run("own", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			d := newDecoder(bytes.NewReader(data), "")
			for {
				e, err := d.next()
				if err != nil {
					b.Fatal(err)
				}
				if e == nil {
					break
				}
			}
		}
	})
	b.Run("yaml.v3", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if _, err := yamlDecode(data); err != nil {
				b.Fatal(err)
			}
		}
	})
}
