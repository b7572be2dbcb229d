package cloudtrailsim

import (
	"context"
	"crypto"
	"crypto/md5"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/trailwarden/trailwarden/shared/integrity"
)

// SignatureAlgorithm is the digest signing algorithm CloudTrail names in the
// digest and in the x-amz-meta-signature-algorithm metadata.
const SignatureAlgorithm = "SHA256withRSA"

// Digest is the body of a CloudTrail digest file, fields in the order of
// AWS's sample ("CloudTrail digest file structure"). Nullable fields are
// pointers: the first digest of a chain has null previousDigest* fields and
// an empty digest has null event times.
type Digest struct {
	AWSAccountID                string          `json:"awsAccountId"`
	DigestStartTime             string          `json:"digestStartTime"`
	DigestEndTime               string          `json:"digestEndTime"`
	DigestS3Bucket              string          `json:"digestS3Bucket"`
	DigestS3Object              string          `json:"digestS3Object"`
	DigestPublicKeyFingerprint  string          `json:"digestPublicKeyFingerprint"`
	DigestSignatureAlgorithm    string          `json:"digestSignatureAlgorithm"`
	NewestEventTime             *string         `json:"newestEventTime"`
	OldestEventTime             *string         `json:"oldestEventTime"`
	PreviousDigestS3Bucket      *string         `json:"previousDigestS3Bucket"`
	PreviousDigestS3Object      *string         `json:"previousDigestS3Object"`
	PreviousDigestHashValue     *string         `json:"previousDigestHashValue"`
	PreviousDigestHashAlgorithm *string         `json:"previousDigestHashAlgorithm"`
	PreviousDigestSignature     *string         `json:"previousDigestSignature"`
	LogFiles                    []DigestLogFile `json:"logFiles"`
}

// DigestLogFile is one entry of a digest's logFiles.
type DigestLogFile struct {
	S3Bucket        string `json:"s3Bucket"`
	S3Object        string `json:"s3Object"`
	HashValue       string `json:"hashValue"`
	HashAlgorithm   string `json:"hashAlgorithm"`
	NewestEventTime string `json:"newestEventTime"`
	OldestEventTime string `json:"oldestEventTime"`
}

// DigestFile is a delivered digest.
type DigestFile struct {
	Key       string
	At        time.Time // digestEndTime, also the delivery time
	Size      int64     // compressed object size
	Digest    Digest
	JSON      []byte // the uncompressed digest file
	Signature string // hex, as in x-amz-meta-signature
}

type digestLink struct {
	bucket, key, hash, signature string
	end                          time.Time
}

// Fingerprint is the fingerprint we give a digest signing key: hex MD5 of
// its PKCS #1 DER encoding (the form ListPublicKeys returns). AWS does not
// document its fingerprint algorithm; 32 hex digits match its samples.
func Fingerprint(pub *rsa.PublicKey) string {
	sum := md5.Sum(x509.MarshalPKCS1PublicKey(pub))
	return hex.EncodeToString(sum[:])
}

// StringToSign is AWS's data signing string for a digest; the rule lives in
// shared/integrity (one copy for signing here and for verifying there).
func StringToSign(d Digest, uncompressed []byte) string {
	return integrity.StringToSign(&integrity.Digest{
		RawEndTime: d.DigestEndTime, S3Bucket: d.DigestS3Bucket, S3Object: d.DigestS3Object,
		PreviousDigestSignature: d.PreviousDigestSignature,
	}, uncompressed)
}

// VerifyDigest checks a digest's hex signature with pub, as the AWS CLI's
// validate-logs does (integrity.ParseDigest and integrity.VerifySignature).
func VerifyDigest(pub *rsa.PublicKey, uncompressed []byte, signatureHex string) error {
	d, err := integrity.ParseDigest(uncompressed)
	if err != nil {
		return fmt.Errorf("cloudtrailsim: %w", err)
	}
	if err := integrity.VerifySignature(pub, d, uncompressed, signatureHex); err != nil {
		return fmt.Errorf("cloudtrailsim: digest signature: %w", err)
	}
	return nil
}

// DeliverDigest writes the digest file for account in region ending at at
// and covering the hour since the previous digest of the chain (or the hour
// before at for the first). logFiles are keys this Deliverer delivered; nil
// takes every log file delivered for account and region since the last
// digest, and an empty non-nil slice writes an "empty" digest. Digests are
// not announced on SNS.
func (d *Deliverer) DeliverDigest(ctx context.Context, account, region string, at time.Time, logFiles []string) (DigestFile, error) {
	return d.deliverDigest(ctx, account, region, at, logFiles, time.Time{})
}

// deliverDigest writes a regular digest, or a backfill digest when
// generated is set (its own chain, "_backfill" key, generation metadata).
func (d *Deliverer) deliverDigest(ctx context.Context, account, region string, at time.Time, logFiles []string, generated time.Time) (DigestFile, error) {
	at = d.when(at).Truncate(time.Second)
	sc := scope{account, region}
	backfill := !generated.IsZero()
	chains := d.chains
	if backfill {
		chains = d.backfillChains
	}
	if err := d.checkBlocked(sc); err != nil {
		return DigestFile{}, err
	}

	d.mu.Lock()
	prev := chains[sc]
	signer, fp := d.key, d.fp
	if logFiles == nil && !backfill {
		logFiles = append([]string(nil), d.pending[sc]...)
	}
	infos := make([]logFileInfo, 0, len(logFiles))
	var unknown []string
	for _, k := range logFiles {
		info, ok := d.files[k]
		if !ok {
			unknown = append(unknown, k)
			continue
		}
		infos = append(infos, info)
	}
	d.mu.Unlock()
	if len(unknown) > 0 {
		return DigestFile{}, fmt.Errorf("cloudtrailsim: digest lists log files this deliverer did not deliver: %v", unknown)
	}

	start := at.Add(-time.Hour)
	if prev != nil {
		start = prev.end
	}
	parts := d.parts(account, region, at, "")
	parts.Backfill = backfill
	key := DigestKey(parts)
	dg := Digest{
		AWSAccountID:               account,
		DigestStartTime:            start.Format(isoSeconds),
		DigestEndTime:              at.Format(isoSeconds),
		DigestS3Bucket:             d.trail.Bucket,
		DigestS3Object:             key,
		DigestPublicKeyFingerprint: fp,
		DigestSignatureAlgorithm:   SignatureAlgorithm,
		LogFiles:                   []DigestLogFile{},
	}
	d.listLogFiles(&dg, infos)
	if prev != nil {
		dg.PreviousDigestS3Bucket = ptr(prev.bucket)
		dg.PreviousDigestS3Object = ptr(prev.key)
		dg.PreviousDigestHashValue = ptr(prev.hash)
		dg.PreviousDigestHashAlgorithm = ptr("SHA-256")
		dg.PreviousDigestSignature = ptr(prev.signature)
	}
	raw, err := json.Marshal(dg)
	if err != nil {
		return DigestFile{}, fmt.Errorf("cloudtrailsim: encode digest: %w", err)
	}
	h := sha256.Sum256([]byte(StringToSign(dg, raw)))
	sig, err := rsa.SignPKCS1v15(nil, signer, crypto.SHA256, h[:])
	if err != nil {
		return DigestFile{}, fmt.Errorf("cloudtrailsim: sign digest: %w", err)
	}
	sigHex := hex.EncodeToString(sig)
	body := gzipBytes(raw)
	if err := d.put(ctx, key, body, digestMetadata(sigHex, generated), true); err != nil {
		return DigestFile{}, err
	}
	sum := sha256.Sum256(raw)
	df := DigestFile{Key: key, At: at, Size: int64(len(body)), Digest: dg, JSON: raw, Signature: sigHex}

	d.mu.Lock()
	chains[sc] = &digestLink{bucket: d.trail.Bucket, key: key, hash: hex.EncodeToString(sum[:]), signature: sigHex, end: at}
	listed := make(map[string]bool, len(infos))
	for _, f := range infos {
		listed[f.key] = true
	}
	rest := d.pending[sc][:0]
	for _, k := range d.pending[sc] {
		if !listed[k] {
			rest = append(rest, k)
		}
	}
	d.pending[sc] = rest
	d.mu.Unlock()
	if backfill {
		return df, nil
	}

	d.noteStatus(sc, func(s *TrailStatusTimes) { s.LatestDigestDeliveryTime = at })
	return df, d.RecordStatus(ctx, account, region, map[string]any{"LatestDigestDeliveryTime": at.Unix()})
}

// digestMetadata is a digest's user metadata; a backfill digest (generated
// set) also carries its generation time.
func digestMetadata(sigHex string, generated time.Time) map[string]string {
	meta := map[string]string{"signature": sigHex, "signature-algorithm": SignatureAlgorithm}
	if !generated.IsZero() {
		meta["backfill-generation-timestamp"] = generated.UTC().Format(isoSeconds)
	}
	return meta
}

// listLogFiles fills a digest's logFiles and event time range.
func (d *Deliverer) listLogFiles(dg *Digest, infos []logFileInfo) {
	var oldest, newest time.Time
	for _, f := range infos {
		dg.LogFiles = append(dg.LogFiles, DigestLogFile{
			S3Bucket: d.trail.Bucket, S3Object: f.key, HashValue: f.hash, HashAlgorithm: "SHA-256",
			NewestEventTime: f.newest.Format(isoSeconds), OldestEventTime: f.oldest.Format(isoSeconds),
		})
		if oldest.IsZero() || f.oldest.Before(oldest) {
			oldest = f.oldest
		}
		if f.newest.After(newest) {
			newest = f.newest
		}
	}
	if len(infos) > 0 {
		dg.OldestEventTime = ptr(oldest.Format(isoSeconds))
		dg.NewestEventTime = ptr(newest.Format(isoSeconds))
	}
}

// RestartChain makes the next digest for account and region the first of a
// new chain (null previousDigest* fields), as after StopLogging/StartLogging
// or turning validation off and on.
func (d *Deliverer) RestartChain(account, region string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.chains, scope{account, region})
}

// ErrNoDigest is returned by LastDigestKey before any digest was delivered.
var ErrNoDigest = errors.New("cloudtrailsim: no digest delivered yet")

// LastDigestKey returns the key of the latest digest of account and region.
func (d *Deliverer) LastDigestKey(account, region string) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if l := d.chains[scope{account, region}]; l != nil {
		return l.key, nil
	}
	return "", ErrNoDigest
}

func ptr[T any](v T) *T { return &v }
