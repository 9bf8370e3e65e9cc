package containertest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/image"
)

// Host binaries the test images are made of, and the Debian packages that
// install them.
const (
	EtcdBinary     = "/usr/bin/etcd"      // etcd-server
	MariaDBBinary  = "/usr/sbin/mariadbd" // mariadb-server (mariadb-server-core)
	MariaDBShare   = "/usr/share/mysql"   // mariadb-server-core
	BusyboxBinary  = "/bin/busybox"       // busybox-static
	imageTimestamp = "2024-01-01T00:00:00Z"
)

//go:embed mariadb-entrypoint.sh
var mariadbEntrypoint []byte

// EtcdImage starts a registry for tb and returns a pullable reference to a
// fresh etcd image in it (see Registry.EtcdImage).
func EtcdImage(tb testing.TB) string {
	tb.Helper()
	return StartRegistry(tb).EtcdImage(tb)
}

// MariaDBImage starts a registry for tb and returns a pullable reference to
// a fresh MariaDB image in it (see Registry.MariaDBImage).
func MariaDBImage(tb testing.TB) string {
	tb.Helper()
	return StartRegistry(tb).MariaDBImage(tb)
}

// EtcdImage pushes an etcd image and returns its reference,
// <Addr>/k3test/etcd:<random tag>. The image is FROM scratch: Debian's
// /usr/bin/etcd installed as /usr/local/bin/etcd (where the official image
// has it, so containers.EtcdSpec runs unchanged) and the libraries ldd lists
// for it, in two layers.
//
// Every call yields distinct layers (each carries a random salt file), so
// the first pull of the reference downloads every layer with real progress
// whatever other tests or processes have pulled. The layers are built once
// per process; a call costs an upload of ~10 MB on loopback. The image is
// removed from the local image store at cleanup.
func (r *Registry) EtcdImage(tb testing.TB) string {
	tb.Helper()
	etcdBuild.Do(func() { etcdBuild.img, etcdBuild.err = buildEtcd() })
	Need(tb, "etcd binary (Debian package etcd-server)", etcdBuild.err)
	return r.pushFresh(tb, "k3test/etcd", etcdBuild.img)
}

// MariaDBImage pushes a MariaDB image and returns its reference,
// <Addr>/k3test/mariadb:<random tag>. It stands in for the official mysql
// image: busybox-static, Debian's mariadbd with the libraries ldd lists, the
// share files it needs (charsets, error messages, system tables SQL), and an
// entrypoint that honours MYSQL_ROOT_PASSWORD, MYSQL_DATABASE, MYSQL_USER
// and MYSQL_PASSWORD, initialises /var/lib/mysql on first start and serves
// on 0.0.0.0:3306 with root@'%' logging in by password. Layers are fresh per
// call, as for EtcdImage; the image is removed at cleanup.
func (r *Registry) MariaDBImage(tb testing.TB) string {
	tb.Helper()
	mariaBuild.Do(func() { mariaBuild.img, mariaBuild.err = buildMariaDB() })
	Need(tb, "mariadbd and busybox (Debian packages mariadb-server, busybox-static)", mariaBuild.err)
	return r.pushFresh(tb, "k3test/mariadb", mariaBuild.img)
}

// BrokenImage pushes an etcd image whose config lists wrong layer digests
// (diff_ids) and returns its reference. Its layers download with real
// progress, then the daemon rejects them while registering: the pull fails
// in the middle of the stream with an errorDetail. Removed at cleanup.
func (r *Registry) BrokenImage(tb testing.TB) string {
	tb.Helper()
	etcdBuild.Do(func() { etcdBuild.img, etcdBuild.err = buildEtcd() })
	Need(tb, "etcd binary (Debian package etcd-server)", etcdBuild.err)
	img := *etcdBuild.img
	img.breakDiffIDs = true
	return r.pushFresh(tb, "k3test/broken", &img)
}

// StubbornEtcdImage pushes an etcd image whose containers ignore SIGTERM
// (a shell is their first process and etcd its child): stopping one takes
// the whole stop timeout. It serves as etcd like EtcdImage's; tests use it
// to hold a cleanup in progress. Removed at cleanup.
func (r *Registry) StubbornEtcdImage(tb testing.TB) string {
	tb.Helper()
	stubbornBuild.Do(func() { stubbornBuild.img, stubbornBuild.err = buildStubbornEtcd() })
	Need(tb, "etcd and busybox binaries (Debian packages etcd-server, busybox-static)", stubbornBuild.err)
	return r.pushFresh(tb, "k3test/stubborn-etcd", stubbornBuild.img)
}

var etcdBuild, mariaBuild, stubbornBuild struct {
	sync.Once
	img *baseImage
	err error
}

// baseImage is an image whose layers still lack their salt.
type baseImage struct {
	layers       []*baseLayer
	config       imageConfig
	breakDiffIDs bool // record wrong diff_ids in the config (BrokenImage)
}

type imageConfig struct {
	Env          []string
	Entrypoint   []string
	Cmd          []string
	ExposedPorts []string
	Volumes      []string
}

// pushFresh salts every layer of img with one random value, pushes the
// result under repo with a random tag and removes it from the local image
// store at cleanup.
func (r *Registry) pushFresh(tb testing.TB, repo string, img *baseImage) string {
	tb.Helper()
	cli := Docker(tb)
	salt := randomHex(16)
	var layers []builtLayer
	for i, l := range img.layers {
		bl, err := l.salted(salt, i)
		if err != nil {
			tb.Fatalf("salt layer %d of %s: %v", i, repo, err)
		}
		layers = append(layers, bl)
	}
	config, err := img.configJSON(layers)
	if err != nil {
		tb.Fatalf("image config of %s: %v", repo, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ref, err := r.push(ctx, repo, "t"+randomHex(6), layers, config)
	if err != nil {
		tb.Fatalf("push %s to %s: %v", repo, r.Addr, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := cleanupContext()
		defer cancel()
		_, err := cli.ImageRemove(ctx, ref, image.RemoveOptions{Force: true, PruneChildren: true})
		if err != nil && !cerrdefs.IsNotFound(err) {
			tb.Logf("cleanup: remove image %s: %v", ref, err)
		}
	})
	return ref
}

func (img *baseImage) configJSON(layers []builtLayer) ([]byte, error) {
	type history struct {
		Created   string `json:"created"`
		CreatedBy string `json:"created_by"`
	}
	var c struct {
		Architecture string `json:"architecture"`
		OS           string `json:"os"`
		Created      string `json:"created"`
		Config       struct {
			Env          []string            `json:"Env,omitempty"`
			Entrypoint   []string            `json:"Entrypoint,omitempty"`
			Cmd          []string            `json:"Cmd,omitempty"`
			ExposedPorts map[string]struct{} `json:"ExposedPorts,omitempty"`
			Volumes      map[string]struct{} `json:"Volumes,omitempty"`
		} `json:"config"`
		RootFS struct {
			Type    string   `json:"type"`
			DiffIDs []string `json:"diff_ids"`
		} `json:"rootfs"`
		History []history `json:"history"`
	}
	c.Architecture, c.OS, c.Created = runtime.GOARCH, "linux", imageTimestamp
	c.Config.Env = img.config.Env
	c.Config.Entrypoint = img.config.Entrypoint
	c.Config.Cmd = img.config.Cmd
	if len(img.config.ExposedPorts) > 0 {
		c.Config.ExposedPorts = map[string]struct{}{}
		for _, p := range img.config.ExposedPorts {
			c.Config.ExposedPorts[p] = struct{}{}
		}
	}
	if len(img.config.Volumes) > 0 {
		c.Config.Volumes = map[string]struct{}{}
		for _, v := range img.config.Volumes {
			c.Config.Volumes[v] = struct{}{}
		}
	}
	c.RootFS.Type = "layers"
	for i, l := range layers {
		diffID := l.diffID
		if img.breakDiffIDs {
			sum := sha256.Sum256([]byte(diffID))
			diffID = "sha256:" + hex.EncodeToString(sum[:])
		}
		c.RootFS.DiffIDs = append(c.RootFS.DiffIDs, diffID)
		c.History = append(c.History, history{Created: imageTimestamp, CreatedBy: "containertest: " + img.layers[i].comment})
	}
	return json.Marshal(c)
}

// entry is one file, directory or symlink of a layer.
type entry struct {
	path string // in the image, without leading slash
	mode int64
	data []byte // regular file
	link string // symlink target
	dir  bool
}

// baseLayer is a gzipped tar stream without its end-of-archive blocks, and
// the SHA-256 states after its compressed and uncompressed bytes. Salting
// appends a second gzip member holding one more file and the end blocks: a
// multi-member gzip stream is valid gzip, and concatenated tar entries are a
// valid tar, so a salted layer costs only hashing a few hundred bytes.
type baseLayer struct {
	comment  string
	gz       []byte
	gzState  []byte
	rawState []byte
}

// builtLayer is a salted layer ready to push.
type builtLayer struct {
	digest string // of the compressed blob
	diffID string // of the uncompressed tar
	size   int64
	body   func() io.Reader
}

var epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

func writeEntries(tw *tar.Writer, entries []entry) error {
	for _, e := range entries {
		h := &tar.Header{Name: e.path, Mode: e.mode, ModTime: epoch, Format: tar.FormatPAX}
		switch {
		case e.dir:
			h.Typeflag, h.Name = tar.TypeDir, strings.TrimSuffix(e.path, "/")+"/"
		case e.link != "":
			h.Typeflag, h.Linkname = tar.TypeSymlink, e.link
		default:
			h.Typeflag, h.Size = tar.TypeReg, int64(len(e.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if len(e.data) > 0 {
			if _, err := tw.Write(e.data); err != nil {
				return err
			}
		}
	}
	return nil
}

func newBaseLayer(comment string, entries []entry) (*baseLayer, error) {
	entries = withParents(entries)
	var gzBuf bytes.Buffer
	rawHash, gzHash := sha256.New(), sha256.New()
	gz, err := gzip.NewWriterLevel(io.MultiWriter(&gzBuf, gzHash), gzip.BestSpeed)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(io.MultiWriter(gz, rawHash))
	if err := writeEntries(tw, entries); err != nil {
		return nil, err
	}
	if err := tw.Flush(); err != nil { // pad the last file; no end blocks
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	l := &baseLayer{comment: comment, gz: gzBuf.Bytes()}
	if l.rawState, err = rawHash.(encoding.BinaryMarshaler).MarshalBinary(); err != nil {
		return nil, err
	}
	if l.gzState, err = gzHash.(encoding.BinaryMarshaler).MarshalBinary(); err != nil {
		return nil, err
	}
	return l, nil
}

func resumeHash(state []byte) (hash.Hash, error) {
	h := sha256.New()
	return h, h.(encoding.BinaryUnmarshaler).UnmarshalBinary(state)
}

func (l *baseLayer) salted(salt string, index int) (builtLayer, error) {
	var raw bytes.Buffer
	tw := tar.NewWriter(&raw)
	err := writeEntries(tw, []entry{
		{path: ".k3test", mode: 0o755, dir: true},
		{path: fmt.Sprintf(".k3test/salt-%d", index), mode: 0o644, data: []byte(salt + "\n")},
	})
	if err != nil {
		return builtLayer{}, err
	}
	if err := tw.Close(); err != nil { // the end-of-archive blocks
		return builtLayer{}, err
	}
	var tail bytes.Buffer
	gz, _ := gzip.NewWriterLevel(&tail, gzip.BestSpeed)
	if _, err := gz.Write(raw.Bytes()); err != nil {
		return builtLayer{}, err
	}
	if err := gz.Close(); err != nil {
		return builtLayer{}, err
	}
	rawHash, err := resumeHash(l.rawState)
	if err != nil {
		return builtLayer{}, err
	}
	rawHash.Write(raw.Bytes())
	gzHash, err := resumeHash(l.gzState)
	if err != nil {
		return builtLayer{}, err
	}
	gzHash.Write(tail.Bytes())
	head, rest := l.gz, tail.Bytes()
	return builtLayer{
		digest: "sha256:" + hex.EncodeToString(gzHash.Sum(nil)),
		diffID: "sha256:" + hex.EncodeToString(rawHash.Sum(nil)),
		size:   int64(len(head) + len(rest)),
		body:   func() io.Reader { return io.MultiReader(bytes.NewReader(head), bytes.NewReader(rest)) },
	}, nil
}

// withParents adds a directory entry (0755) for every parent not listed,
// before its first child, so the layer is self-contained.
func withParents(entries []entry) []entry {
	have := map[string]bool{}
	for _, e := range entries {
		if e.dir {
			have[strings.TrimSuffix(e.path, "/")] = true
		}
	}
	var out []entry
	for _, e := range entries {
		var parents []string
		for d := path.Dir(strings.TrimSuffix(e.path, "/")); d != "." && d != "/" && !have[d]; d = path.Dir(d) {
			parents = append(parents, d)
			have[d] = true
		}
		for i := len(parents) - 1; i >= 0; i-- {
			out = append(out, entry{path: parents[i], mode: 0o755, dir: true})
		}
		out = append(out, e)
	}
	return out
}

// hostFile reads a host file (following symlinks) as an entry at the same
// path, or at as when given.
func hostFile(src, as string, mode int64) (entry, error) {
	data, err := os.ReadFile(src)
	if err != nil {
		return entry{}, err
	}
	if as == "" {
		as = src
	}
	return entry{path: strings.TrimPrefix(as, "/"), mode: mode, data: data}, nil
}

// sharedLibraries lists the libraries ldd reports for bin, the dynamic
// loader included; none for a static binary.
func sharedLibraries(bin string) ([]string, error) {
	out, err := exec.Command("ldd", bin).CombinedOutput()
	text := string(out)
	if strings.Contains(text, "not a dynamic executable") || strings.Contains(text, "statically linked") {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ldd %s: %v: %s", bin, err, out)
	}
	var libs []string
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 3 && f[1] == "=>":
			if f[2] == "not" {
				return nil, fmt.Errorf("ldd %s: %s", bin, strings.TrimSpace(line))
			}
			if strings.HasPrefix(f[2], "/") {
				libs = append(libs, f[2])
			}
		case len(f) >= 1 && strings.HasPrefix(f[0], "/"):
			libs = append(libs, f[0])
		}
	}
	sort.Strings(libs)
	return libs, nil
}

func libraryEntries(bin string) ([]entry, error) {
	libs, err := sharedLibraries(bin)
	if err != nil {
		return nil, err
	}
	var out []entry
	for _, lib := range libs {
		e, err := hostFile(lib, "", 0o755)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

func buildEtcd() (*baseImage, error) {
	if _, err := os.Stat(EtcdBinary); err != nil {
		return nil, err
	}
	libs, err := libraryEntries(EtcdBinary)
	if err != nil {
		return nil, err
	}
	base := append([]entry{{path: "tmp", mode: 0o1777, dir: true}}, libs...)
	l1, err := newBaseLayer("libraries of "+EtcdBinary, base)
	if err != nil {
		return nil, err
	}
	bin, err := hostFile(EtcdBinary, "/usr/local/bin/etcd", 0o755)
	if err != nil {
		return nil, err
	}
	l2, err := newBaseLayer(EtcdBinary+" as /usr/local/bin/etcd", []entry{bin})
	if err != nil {
		return nil, err
	}
	return &baseImage{
		layers: []*baseLayer{l1, l2},
		config: imageConfig{
			Env:          []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
			Cmd:          []string{"/usr/local/bin/etcd"},
			ExposedPorts: []string{"2379/tcp", "2380/tcp"},
		},
	}, nil
}

// busyboxLayer makes a layer of busybox-static as /bin/busybox with a link
// for each of its applets, /tmp, and extra.
func busyboxLayer(extra ...entry) (*baseLayer, error) {
	bb, err := hostFile(BusyboxBinary, "/bin/busybox", 0o755)
	if err != nil {
		return nil, err
	}
	applets, err := exec.Command(BusyboxBinary, "--list").Output()
	if err != nil {
		return nil, fmt.Errorf("busybox --list: %w", err)
	}
	entries := []entry{
		{path: "bin", mode: 0o755, dir: true},
		bb,
		{path: "tmp", mode: 0o1777, dir: true},
	}
	entries = append(entries, extra...)
	for _, a := range strings.Fields(string(applets)) {
		if a != "busybox" && !strings.Contains(a, "/") {
			entries = append(entries, entry{path: "bin/" + a, mode: 0o777, link: "busybox"})
		}
	}
	return newBaseLayer("busybox", entries)
}

// buildStubbornEtcd is the etcd image with busybox added and a shell that
// ignores SIGTERM and SIGINT as the container's first process, running etcd
// as its child: `docker stop` signals only the first process (or, with
// the daemon's init, only its child, the shell), so it waits out its whole
// timeout before it kills the container.
func buildStubbornEtcd() (*baseImage, error) {
	etcdBuild.Do(func() { etcdBuild.img, etcdBuild.err = buildEtcd() })
	if etcdBuild.err != nil {
		return nil, etcdBuild.err
	}
	base := etcdBuild.img
	if _, err := os.Stat(BusyboxBinary); err != nil {
		return nil, err
	}
	bb, err := busyboxLayer()
	if err != nil {
		return nil, err
	}
	img := *base
	img.layers = append([]*baseLayer{bb}, base.layers...)
	// The container's command (etcd and its flags) is the script's $0 and
	// arguments.
	img.config.Entrypoint = []string{"/bin/sh", "-c", `trap '' TERM INT; "$0" "$@" & wait`}
	return &img, nil
}

func buildMariaDB() (*baseImage, error) {
	for _, p := range []string{MariaDBBinary, BusyboxBinary, MariaDBShare} {
		if _, err := os.Stat(p); err != nil {
			return nil, err
		}
	}
	// Layer 1: busybox with its applets, users, and the directories mariadbd uses.
	l1, err := busyboxLayer(
		entry{path: "root", mode: 0o700, dir: true},
		entry{path: "run/mysqld", mode: 0o755, dir: true},
		entry{path: "var/lib/mysql", mode: 0o755, dir: true},
		entry{path: "etc/passwd", mode: 0o644, data: []byte("root:x:0:0:root:/root:/bin/sh\nmysql:x:999:999:MariaDB:/var/lib/mysql:/bin/false\n")},
		entry{path: "etc/group", mode: 0o644, data: []byte("root:x:0:\nmysql:x:999:\n")},
	)
	if err != nil {
		return nil, err
	}
	// Layer 2: shared libraries.
	libs, err := libraryEntries(MariaDBBinary)
	if err != nil {
		return nil, err
	}
	l2, err := newBaseLayer("libraries of "+MariaDBBinary, libs)
	if err != nil {
		return nil, err
	}
	// Layer 3: the server.
	srv, err := hostFile(MariaDBBinary, "", 0o755)
	if err != nil {
		return nil, err
	}
	l3, err := newBaseLayer(MariaDBBinary, []entry{srv})
	if err != nil {
		return nil, err
	}
	// Layer 4: share files and the entrypoint.
	var share []entry
	for _, dir := range []string{"charsets", "english"} {
		root := filepath.Join(MariaDBShare, dir)
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			e, err := hostFile(p, "", 0o644)
			share = append(share, e)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	for _, f := range []string{"mysql_system_tables.sql", "mysql_performance_tables.sql", "mysql_system_tables_data.sql", "maria_add_gis_sp_bootstrap.sql"} {
		e, err := hostFile(filepath.Join(MariaDBShare, f), "", 0o644)
		if err != nil {
			return nil, err
		}
		share = append(share, e)
	}
	share = append(share, entry{path: "usr/local/bin/docker-entrypoint.sh", mode: 0o755, data: mariadbEntrypoint})
	l4, err := newBaseLayer("share files and entrypoint", share)
	if err != nil {
		return nil, err
	}
	return &baseImage{
		layers: []*baseLayer{l1, l2, l3, l4},
		config: imageConfig{
			Env:          []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
			Entrypoint:   []string{"/usr/local/bin/docker-entrypoint.sh"},
			Cmd:          []string{"mariadbd"},
			ExposedPorts: []string{"3306/tcp"},
			Volumes:      []string{"/var/lib/mysql"},
		},
	}, nil
}
