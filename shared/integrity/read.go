package integrity

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"time"
)

// read fetches one digest and checks everything that depends on it alone:
// format, signature metadata, location, key and signature.
func (v *run) read(ctx context.Context, r *digestRec) error {
	defer v.progress()
	obj, err := v.src.Get(ctx, r.key)
	if errors.Is(err, ErrNotFound) {
		r.exists = false
		r.fail(Missing, "listed, but not found when read")
		return nil
	}
	if err != nil {
		return fmt.Errorf("read digest %s: %w", r.key, err)
	}
	r.meta, r.sig = obj.Metadata, obj.Metadata[MetaSignature]
	raw, err := Gunzip(obj.Body, MaxDigestSize)
	if err != nil {
		r.fail(Invalid, "invalid format: "+err.Error())
		return nil
	}
	r.raw, r.hash = raw, HashHex(raw)
	d, err := ParseDigest(raw)
	if err != nil {
		r.fail(Invalid, err.Error())
		return nil
	}
	r.d = d
	if reason := v.check(r); reason != "" {
		r.fail(Invalid, reason)
		return nil
	}
	pub, reason, err := v.signingKey(ctx, r)
	if err != nil {
		return err
	}
	if reason != "" {
		r.fail(Invalid, reason)
		return nil
	}
	if err := VerifySignature(pub, d, raw, r.sig); err != nil {
		r.fail(Invalid, err.Error())
		return nil
	}
	r.signed = true
	r.fail(Valid, "signature verified")
	return nil
}

// check returns why a parsed digest is invalid before its signature is
// checked, or "".
func (v *run) check(r *digestRec) string {
	d := r.d
	if r.sig == "" || r.meta[MetaSignatureAlgorithm] == "" {
		return "no signature or signature-algorithm metadata"
	}
	if alg := r.meta[MetaSignatureAlgorithm]; alg != SignatureAlgorithm {
		return fmt.Sprintf("signature-algorithm %q is not %s", alg, SignatureAlgorithm)
	}
	bucket := v.opts.Bucket
	if bucket == "" {
		bucket = d.S3Bucket
	}
	if d.S3Bucket != bucket || d.S3Object != r.key {
		return fmt.Sprintf("has been moved from its original location s3://%s/%s", d.S3Bucket, d.S3Object)
	}
	if r.k.Backfill {
		if _, err := r.generated(); err != nil {
			return err.Error()
		}
	}
	return ""
}

func (r *digestRec) generated() (time.Time, error) {
	s, ok := r.meta[MetaBackfillGenerated]
	if !ok {
		return time.Time{}, errors.New("backfill digest without backfill-generation-timestamp metadata")
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("backfill-generation-timestamp %q is not an ISO 8601 time", s)
	}
	return t.UTC(), nil
}

// signingKey finds the public key named by the digest's fingerprint among
// the keys of its home Region valid for it. A reason is returned when there
// is none; an error when the keys cannot be read.
func (v *run) signingKey(ctx context.Context, r *digestRec) (*rsa.PublicKey, string, error) {
	var gen time.Time
	if r.k.Backfill {
		gen, _ = r.generated()
	}
	from, to := keyRange(r.d, r.k.Backfill, gen)
	// Regular digests share one lookup per home Region over every digest
	// read; a backfill digest is looked up around its generation time, as
	// the AWS CLI does.
	askFrom, askTo := from, to
	memo := fmt.Sprintf("%s|%d|%d", r.k.HomeRegion, from.Unix(), to.Unix())
	if !r.k.Backfill {
		askFrom, askTo = v.regionRange(r.k.HomeRegion)
		memo = r.k.HomeRegion
	}
	keys, ok := v.keyMemo[memo]
	if !ok {
		var err error
		if keys, err = v.keys.PublicKeys(ctx, r.k.HomeRegion, askFrom, askTo); err != nil {
			return nil, "", fmt.Errorf("public keys of %s: %w", r.k.HomeRegion, err)
		}
		v.keyMemo[memo] = keys
	}
	for _, k := range keys {
		if k.Fingerprint == r.d.PublicKeyFingerprint && overlaps(k, from, to) {
			return k.Key, "", nil
		}
	}
	return nil, fmt.Sprintf("public key not found in region %s for fingerprint %s valid between %s and %s",
		r.k.HomeRegion, r.d.PublicKeyFingerprint, from.Format(timeLayout), to.Format(timeLayout)), nil
}

// regionRange spans the periods of every regular digest of homeRegion that
// is read, with RotationBuffer after the last. A digest's start is not
// known before it is read: a day before its end covers any real digest.
func (v *run) regionRange(homeRegion string) (time.Time, time.Time) {
	var from, to time.Time
	for sk, recs := range v.scopes {
		if sk.home != homeRegion || sk.backfill || len(recs) == 0 {
			continue
		}
		if f := recs[0].k.Time.Add(-24 * time.Hour); from.IsZero() || f.Before(from) {
			from = f
		}
		if t := recs[len(recs)-1].k.Time.Add(RotationBuffer); t.After(to) {
			to = t
		}
	}
	return from, to
}
