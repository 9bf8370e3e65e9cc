// Package etcd is the Store on an etcd v3 cluster, through the official
// client (go.etcd.io/etcd/client/v3), which no other k3-storage package
// imports.
//
// The contract maps directly onto etcd: revisions are etcd's store
// revisions; Create, Update and Delete are transactions comparing the key's
// ModRevision; List is one range read at one revision; Watch is an etcd
// watch with previous values; CountRev is a count-only range read; History
// reads the key at past revisions, one version per read. Requests are
// balanced over all endpoints and fail over when a member goes away; a
// running Watch resumes on another member from the revision after the last
// event it delivered.
//
// Values up to backends.MaxValueSize need servers started with
// --max-request-bytes of at least about 1.6 MiB (ServerMaxRequestBytes);
// with etcd's default of 1.5 MiB the largest values fail with
// backends.ErrValueTooLarge.
package etcd

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"github.com/k3/k3-storage/backends"
)

var (
	_ backends.Store           = (*Store)(nil)
	_ backends.Compactor       = (*Store)(nil)
	_ backends.Revisioner      = (*Store)(nil)
	_ backends.RevisionCounter = (*Store)(nil)
	_ backends.Historian       = (*Store)(nil)
	_ backends.Pinger          = (*Store)(nil)
)

// probeKey is read (count only) where a call needs the cluster's revision
// without caring for any key: the readiness check in Open, Ping and
// Revision.
const probeKey = "\x00k3-storage/probe"

// Store is the etcd backend. Create it with Open; it holds one client,
// released by Close.
type Store struct {
	client  *clientv3.Client
	stop    context.CancelFunc // cancels the client's root context
	timeout time.Duration
	secrets []string // hidden from error texts
	conns   *connLog
	eps     []string

	closed atomic.Bool
	done   chan struct{} // closed by Close

	// watchEpoch selects the gRPC stream new etcd watches join; a watcher
	// whose stream etcd refused moves it on (see watchStreamKey).
	watchEpoch atomic.Int64
	watchStats watchStats

	// sizes remembers how many keys recent prefixes held, to choose how
	// List reads pages after the first (see list.go).
	sizes prefixSizes

	// compactFloor is the newest compaction revision found (see
	// compactionRev): revisions below it are compacted for good.
	compactFloor atomic.Int64
}

// Open connects to the cluster and checks that it answers: one attempt,
// bounded by ctx and opts.DialTimeout. Readiness is a linearizable read
// (which needs a quorum and, with auth, valid credentials), never a bare
// dial. Errors that retrying cannot fix (invalid options, rejected
// credentials, TLS failures of every endpoint) satisfy errors.Is(err,
// backends.ErrPermanent); others (members down, no quorum yet) are worth
// retrying. A TLS failure of some members only is not permanent: Open
// succeeds if the others answer, and otherwise fails at its deadline, naming
// the TLS failures. ctx bounds only this call: once Open returns, ending it
// does not affect the Store. The caller retries; Open does not. Error texts
// never contain the password.
func Open(ctx context.Context, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	secrets := []string{opts.Password}
	fail := func(err error) error {
		return redact(fmt.Errorf("etcd: connect to %v: %w", opts.Endpoints, err), secrets...)
	}
	if err := opts.validate(); err != nil {
		return nil, backends.Permanent(fail(err))
	}
	tlsCfg, err := opts.tlsConfig()
	if err != nil {
		return nil, backends.Permanent(fail(err))
	}

	conns := newConnLog(opts.Endpoints)
	dialOpts := []grpc.DialOption{
		grpc.WithContextDialer(conns.dial),
		// gRPC's default reconnect backoff grows to two minutes; members
		// that come back must be used again within a request timeout.
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff: backoff.Config{
				BaseDelay:  100 * time.Millisecond,
				Multiplier: 1.6,
				Jitter:     0.2,
				MaxDelay:   time.Second,
			},
			MinConnectTimeout: opts.DialTimeout,
		}),
	}
	if tlsCfg != nil {
		// Given as a dial option (which overrides the client's own choice)
		// rather than Config.TLS, so that handshake errors are recorded.
		dialOpts = append(dialOpts, grpc.WithTransportCredentials(
			recordingCreds{credentials.NewTLS(tlsCfg), opts.ServerName, conns}))
	}

	// The client outlives this call, so its root context is not ctx; but
	// while Open runs, ending ctx aborts the client's own dial and
	// authentication too.
	root, stop := context.WithCancel(context.WithoutCancel(ctx))
	unlink := context.AfterFunc(ctx, stop)
	attempt, cancel := context.WithTimeout(ctx, opts.DialTimeout)
	defer cancel()
	conns.notifyTLSFailure(func() { stop(); cancel() })

	client, err := clientv3.New(clientv3.Config{
		Endpoints:            opts.Endpoints,
		DialTimeout:          opts.DialTimeout,
		DialKeepAliveTime:    10 * time.Second,
		DialKeepAliveTimeout: 5 * time.Second,
		MaxCallSendMsgSize:   maxCallSendMsgSize,
		Username:             opts.Username,
		Password:             opts.Password,
		DialOptions:          dialOpts,
		Context:              root,
		Logger:               zap.NewNop(),
	})
	if err != nil {
		unlink()
		stop()
		return nil, fail(classify(ctx, err, conns))
	}
	s := &Store{
		client:  client,
		stop:    stop,
		timeout: opts.RequestTimeout,
		secrets: secrets,
		conns:   conns,
		eps:     opts.Endpoints,
		done:    make(chan struct{}),
	}
	_, err = client.Get(attempt, probeKey, clientv3.WithCountOnly())
	conns.notifyTLSFailure(nil)
	if errors.Is(err, rpctypes.ErrPermissionDenied) {
		// Denied on the probe key still proves a live cluster and accepted
		// credentials (etcdctl's health check does the same).
		err = nil
	}
	if err == nil && root.Err() != nil {
		err = root.Err() // cancelled by ctx or TLS failures of every endpoint
	}
	if err != nil {
		client.Close()
		unlink()
		stop()
		return nil, fail(classify(ctx, err, conns))
	}
	if !unlink() {
		// ctx ended just as the check succeeded: the client is cancelled.
		s.Close()
		return nil, fail(ctx.Err())
	}
	return s, nil
}

// classify marks failures of Open that retrying cannot fix as permanent and
// adds the last connection errors to time-outs.
func classify(ctx context.Context, err error, conns *connLog) error {
	if tlsErr := conns.tlsFailure(); tlsErr != nil {
		return backends.Permanent(tlsErr) // every endpoint failed TLS
	}
	if errors.Is(err, rpctypes.ErrAuthFailed) {
		return backends.AccessDenied(err)
	}
	if isAuthError(err) {
		return backends.Permanent(err)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return withConnErrors(err, conns)
}

// isAuthError reports whether err is etcd rejecting the credentials or
// their rights.
func isAuthError(err error) bool {
	return errors.Is(err, rpctypes.ErrAuthFailed) || errors.Is(err, rpctypes.ErrInvalidAuthToken) ||
		errors.Is(err, rpctypes.ErrPermissionDenied) || errors.Is(err, rpctypes.ErrUserEmpty) ||
		errors.Is(err, rpctypes.ErrInvalidAuthMgmt)
}

// withConnErrors adds the last connection failures to a time-out or an
// unavailable cluster, whose own text ("context deadline exceeded") does
// not say what went wrong.
func withConnErrors(err error, conns *connLog) error {
	last := conns.last()
	switch {
	case errors.Is(err, context.DeadlineExceeded) && last != nil:
		return fmt.Errorf("%w (no member answered in time; last connection errors: %w)", err, last)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%w (no member answered in time)", err)
	case status.Code(err) == codes.Unavailable && last != nil:
		return fmt.Errorf("%w (last connection errors: %w)", err, last)
	}
	return err
}

// Endpoints returns the endpoints the store was opened with.
func (s *Store) Endpoints() []string { return append([]string(nil), s.eps...) }

// call returns the context for one request: ctx bounded by the request
// timeout. The caller must call cancel.
func (s *Store) call(ctx context.Context) (context.Context, context.CancelFunc, error) {
	if s.closed.Load() {
		return nil, nil, backends.ErrClosed
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	return ctx, cancel, nil
}

// fail translates a client error at the edge of the package: sentinels for
// what the contract names, connection details for time-outs, and no
// password in the text.
func (s *Store) fail(op, key string, err error) error {
	switch {
	case s.closed.Load():
		return fmt.Errorf("etcd: %s %q: %w", op, key, backends.ErrClosed)
	case errors.Is(err, rpctypes.ErrRequestTooLarge), isSendTooLarge(err):
		// The server's --max-request-bytes is below what the contract allows.
		return redact(fmt.Errorf("etcd: %s %q: %w (%w)", op, key, backends.ErrValueTooLarge, err), s.secrets...)
	case errors.Is(err, rpctypes.ErrCompacted):
		return redact(fmt.Errorf("etcd: %s %q: %w (%w)", op, key, backends.ErrCompacted, err), s.secrets...)
	}
	return redact(fmt.Errorf("etcd: %s %q: %w", op, key, withConnErrors(err, s.conns)), s.secrets...)
}

// isSendTooLarge reports gRPC refusing to send a message over the client's
// size limit. Other ResourceExhausted errors (a full database, too many
// requests) are not about the value's size.
func isSendTooLarge(err error) bool {
	if status.Code(err) != codes.ResourceExhausted {
		return false
	}
	return !errors.Is(err, rpctypes.ErrNoSpace) && !errors.Is(err, rpctypes.ErrTooManyRequests) &&
		!errors.Is(err, rpctypes.ErrGRPCNoSpace) && !errors.Is(err, rpctypes.ErrGRPCRequestTooManyRequests)
}

// keyRange returns etcd's [start, end) for a prefix: "\x00" as end means
// no upper bound, and the empty prefix starts at "\x00", the least key.
func keyRange(prefix string) (start, end string) {
	start, end = prefix, backends.PrefixEnd(prefix)
	if start == "" {
		start = "\x00"
	}
	if end == "" {
		end = "\x00"
	}
	return start, end
}

// Get implements backends.Store.
func (s *Store) Get(ctx context.Context, key string) (backends.KeyValue, error) {
	if err := backends.CheckKey(key); err != nil {
		return backends.KeyValue{}, err
	}
	ctx, cancel, err := s.call(ctx)
	if err != nil {
		return backends.KeyValue{}, err
	}
	defer cancel()
	resp, err := s.client.Get(ctx, key)
	if err != nil {
		return backends.KeyValue{}, s.fail("get", key, err)
	}
	if len(resp.Kvs) == 0 {
		return backends.KeyValue{}, fmt.Errorf("etcd: get %q: %w", key, backends.ErrNotFound)
	}
	return toKV(resp.Kvs[0]), nil
}

// Count implements backends.Store.
func (s *Store) Count(ctx context.Context, prefix string) (int64, error) {
	n, _, err := s.CountRev(ctx, prefix)
	return n, err
}

// Create implements backends.Store.
func (s *Store) Create(ctx context.Context, key string, value []byte) (int64, error) {
	if err := backends.CheckWrite(key, value); err != nil {
		return 0, err
	}
	ctx, cancel, err := s.call(ctx)
	if err != nil {
		return 0, err
	}
	defer cancel()
	resp, err := s.client.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(key), "=", 0)).
		Then(clientv3.OpPut(key, string(value))).
		Commit()
	if err != nil {
		return 0, s.fail("create", key, err)
	}
	if !resp.Succeeded {
		return 0, fmt.Errorf("etcd: create %q: %w", key, backends.ErrKeyExists)
	}
	return resp.Header.Revision, nil
}

// Put implements backends.Store.
func (s *Store) Put(ctx context.Context, key string, value []byte) (int64, error) {
	if err := backends.CheckWrite(key, value); err != nil {
		return 0, err
	}
	ctx, cancel, err := s.call(ctx)
	if err != nil {
		return 0, err
	}
	defer cancel()
	resp, err := s.client.Put(ctx, key, string(value))
	if err != nil {
		return 0, s.fail("put", key, err)
	}
	return resp.Header.Revision, nil
}

// Update implements backends.Store: a transaction that writes if the key
// is at ifRev, exactly what a caller of clientv3 would send. Only when it
// fails does a second read tell ErrNotFound from ErrConflict (see
// casFailure); an Else branch doing that read inside the transaction would
// cost every successful update about 5% for the sake of failed ones.
func (s *Store) Update(ctx context.Context, key string, value []byte, ifRev int64) (int64, error) {
	if err := backends.CheckWrite(key, value); err != nil {
		return 0, err
	}
	ctx, cancel, err := s.call(ctx)
	if err != nil {
		return 0, err
	}
	defer cancel()
	if ifRev <= 0 {
		// No key is at such a revision, but a missing key's ModRevision
		// compares equal to 0: the transaction would create the key.
		return 0, s.casFailure(ctx, "update", key, ifRev)
	}
	resp, err := s.client.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(key), "=", ifRev)).
		Then(clientv3.OpPut(key, string(value))).
		Commit()
	if err != nil {
		return 0, s.fail("update", key, err)
	}
	if !resp.Succeeded {
		return 0, s.casFailure(ctx, "update", key, ifRev)
	}
	return resp.Header.Revision, nil
}

// casFailure explains a compare-and-swap that found the key not at ifRev:
// ErrNotFound if the key is missing now, ErrConflict if it exists. Reading
// after the failed transaction rather than in it keeps the answer true at
// some moment during the call, which is all a write that changed nothing
// needs: a missing key was missing at the read; a present key was either
// present but not at ifRev at the transaction, or is now at a revision
// other than ifRev (ifRev is in the past; only a caller guessing a future
// revision could see a key created exactly there reported as a conflict).
func (s *Store) casFailure(ctx context.Context, op, key string, ifRev int64) error {
	resp, err := s.client.Get(ctx, key, clientv3.WithCountOnly())
	switch {
	case err != nil:
		return s.fail(op, key, err)
	case resp.Count == 0:
		return fmt.Errorf("etcd: %s %q: %w", op, key, backends.ErrNotFound)
	}
	return fmt.Errorf("etcd: %s %q at revision %d: %w", op, key, ifRev, backends.ErrConflict)
}

// Delete implements backends.Store.
func (s *Store) Delete(ctx context.Context, key string, ifRev int64) (int64, error) {
	if err := backends.CheckKey(key); err != nil {
		return 0, err
	}
	ctx, cancel, err := s.call(ctx)
	if err != nil {
		return 0, err
	}
	defer cancel()
	if ifRev == 0 {
		resp, err := s.client.Delete(ctx, key)
		if err != nil {
			return 0, s.fail("delete", key, err)
		}
		if resp.Deleted == 0 {
			return 0, fmt.Errorf("etcd: delete %q: %w", key, backends.ErrNotFound)
		}
		return resp.Header.Revision, nil
	}
	resp, err := s.client.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(key), "=", ifRev)).
		Then(clientv3.OpDelete(key)).
		Commit()
	if err != nil {
		return 0, s.fail("delete", key, err)
	}
	if !resp.Succeeded {
		return 0, s.casFailure(ctx, "delete", key, ifRev)
	}
	return resp.Header.Revision, nil
}

// Compact implements backends.Compactor with etcd's compaction to rev-1.
// etcd keeps its compaction revision itself readable and watchable, but a
// watch event carries the previous version as read at the revision before
// it, which that compaction removed: a watch from etcd's compaction revision
// would deliver an update or delete there without PrevKV. So the contract's
// compacted revision is etcd's compaction revision itself (Revision reports
// it), and Compact(rev), which keeps rev watchable, compacts etcd to rev-1:
// a Watch from rev then gets every event with its PrevKV. Compacting to a
// revision at or below an earlier compaction succeeds (there is nothing
// left to do); beyond the current revision it fails.
func (s *Store) Compact(ctx context.Context, rev int64) error {
	ctx, cancel, err := s.call(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	// etcd itself would accept rev-1 when rev is one beyond the current
	// revision.
	resp, err := s.client.Get(ctx, probeKey, clientv3.WithCountOnly())
	if err != nil {
		return s.fail("compact", fmt.Sprint(rev), err)
	}
	if cur := resp.Header.Revision; rev > cur {
		return fmt.Errorf("etcd: compact to revision %d beyond the current revision %d", rev, cur)
	}
	if rev <= 1 {
		return nil // nothing lies below revision 1
	}
	if _, err := s.client.Compact(ctx, rev-1); err != nil && !errors.Is(err, rpctypes.ErrCompacted) {
		return s.fail("compact", fmt.Sprint(rev), err)
	}
	return nil
}

// Revision implements backends.Revisioner. The compacted revision is
// etcd's compaction revision (see Compact), which etcd reports only through
// failing reads: it is found by reads at past revisions (compactionRev),
// one when it has not moved since this Store last looked, a binary search
// above the last one found otherwise.
func (s *Store) Revision(ctx context.Context) (current, compacted int64, err error) {
	rctx, cancel, err := s.call(ctx)
	if err != nil {
		return 0, 0, err
	}
	resp, err := s.client.Get(rctx, probeKey, clientv3.WithCountOnly())
	cancel()
	if err != nil {
		return 0, 0, s.fail("revision", probeKey, err)
	}
	current = resp.Header.Revision
	least, err := s.compactionRev(ctx, probeKey, 0, current)
	if err != nil {
		return 0, 0, s.fail("revision", probeKey, err)
	}
	return current, compactedAt(least), nil
}

// Ping implements backends.Pinger with the read Open checks readiness with:
// a linearizable count of one key, which a member answers only with a
// quorum behind it. A user who may not read the key still gets an answer
// (permission denied), which counts. Bounded by ctx and
// Options.RequestTimeout.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel, err := s.call(ctx)
	if err != nil {
		return fmt.Errorf("etcd: ping: %w", err)
	}
	defer cancel()
	_, err = s.client.Get(ctx, probeKey, clientv3.WithCountOnly())
	switch {
	case err == nil || errors.Is(err, rpctypes.ErrPermissionDenied):
		return nil
	case s.closed.Load():
		return fmt.Errorf("etcd: ping: %w", backends.ErrClosed)
	}
	// Not s.fail: the probe key means nothing to a reader.
	return redact(fmt.Errorf("etcd: ping: %w", withConnErrors(err, s.conns)), s.secrets...)
}

// Close implements backends.Store: it closes the client, which ends every
// watch with a final ErrClosed event.
func (s *Store) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	close(s.done)
	err := s.client.Close()
	s.stop()
	if errors.Is(err, context.Canceled) || status.Code(err) == codes.Canceled {
		err = nil
	}
	if err != nil {
		return fmt.Errorf("etcd: close: %w", err)
	}
	return nil
}

// toKV converts an etcd key-value. The client decoded it into fresh
// memory, so the value is not shared and needs no copy.
func toKV(kv *mvccpb.KeyValue) backends.KeyValue {
	value := kv.Value
	if value == nil {
		value = []byte{}
	}
	return backends.KeyValue{
		Key:            string(kv.Key),
		Value:          value,
		CreateRevision: kv.CreateRevision,
		ModRevision:    kv.ModRevision,
		Version:        kv.Version,
	}
}
