package integrity

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/trailwarden/trailwarden/shared/logkey"
)

// DigestCheck is what checking one digest object on its own learnt.
type DigestCheck struct {
	Key logkey.Key
	// Digest is nil when the object could not be parsed.
	Digest *Digest
	// Hash is the hex SHA-256 of the uncompressed digest ("" when it is
	// not gzip); Signature its signature metadata.
	Hash, Signature string
	// Verdict is Valid or Invalid, with its reason.
	Verdict, Reason string
}

// oneObject is a Source of one object, for CheckDigest.
type oneObject struct {
	key string
	obj Object
}

func (o oneObject) List(context.Context, string, func(string) error) error { return nil }

func (o oneObject) Get(_ context.Context, key string) (Object, error) {
	if key != o.key {
		return Object{}, fmt.Errorf("%s: %w", key, ErrNotFound)
	}
	return o.obj, nil
}

// CheckDigest checks one digest object found at bucket/key with the rules
// Verify applies to each digest it reads: format, signature metadata,
// location, signing key (by fingerprint, with RotationBuffer or the backfill
// window) and signature. The chain link is the caller's to check. An error
// means the keys could not be read.
func CheckDigest(ctx context.Context, keys KeySource, bucket, key string, obj Object) (DigestCheck, error) {
	k, err := logkey.Parse(key)
	if err != nil || k.Kind != logkey.KindDigest {
		return DigestCheck{Verdict: Invalid, Reason: "not a digest file key"}, nil
	}
	v := &run{src: oneObject{key, obj}, keys: keys, opts: Options{Bucket: bucket},
		scopes: map[scopeKey][]*digestRec{}, byKey: map[string]*digestRec{}, keyMemo: map[string][]PublicKey{}}
	r := &digestRec{key: key, k: k, exists: true}
	v.scopes[scopeOf(k)] = []*digestRec{r}
	if err := v.read(ctx, r); err != nil {
		return DigestCheck{}, err
	}
	return DigestCheck{Key: k, Digest: r.d, Hash: r.hash, Signature: r.sig, Verdict: r.verdict, Reason: r.reason}, nil
}

// Sampled reports whether a log file key is in the deterministic sample
// (LogFilesSample).
func Sampled(key string) bool { return sampled(key) }

// CheckLogFile judges a log file's stored bytes against the hashValue its
// digest lists: Valid, or Invalid with the reason.
func CheckLogFile(stored []byte, hashValue string) (string, string) {
	got, err := HashGzip(bytes.NewReader(stored))
	switch {
	case errors.Is(err, ErrTrailingData):
		return Invalid, err.Error()
	case err != nil:
		return Invalid, "invalid format: " + err.Error()
	case got != hashValue:
		return Invalid, "hash value does not match the digest's hashValue"
	}
	return Valid, "hash value matches"
}
