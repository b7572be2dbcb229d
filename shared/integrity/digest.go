package integrity

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// SignatureAlgorithm is the only algorithm CloudTrail signs digests with
// (digestSignatureAlgorithm and the signature-algorithm metadata).
const SignatureAlgorithm = "SHA256withRSA"

// Metadata names of a digest object (S3 user metadata, lower case, without
// the x-amz-meta- prefix).
const (
	MetaSignature          = "signature"
	MetaSignatureAlgorithm = "signature-algorithm"
	MetaBackfillGenerated  = "backfill-generation-timestamp"
)

// Digest is the part of a digest file the checks read.
type Digest struct {
	AccountID                string     `json:"awsAccountId"`
	StartTime                time.Time  `json:"-"`
	EndTime                  time.Time  `json:"-"`
	S3Bucket                 string     `json:"digestS3Bucket"`
	S3Object                 string     `json:"digestS3Object"`
	PublicKeyFingerprint     string     `json:"digestPublicKeyFingerprint"`
	PreviousDigestS3Bucket   *string    `json:"previousDigestS3Bucket"`
	PreviousDigestS3Object   *string    `json:"previousDigestS3Object"`
	PreviousDigestHashValue  *string    `json:"previousDigestHashValue"`
	PreviousDigestSignature  *string    `json:"previousDigestSignature"`
	LogFiles                 []LogEntry `json:"logFiles"`
	RawEndTime, RawStartTime string     `json:"-"`
}

// LogEntry is one element of a digest's logFiles.
type LogEntry struct {
	S3Bucket  string `json:"s3Bucket"`
	S3Object  string `json:"s3Object"`
	HashValue string `json:"hashValue"`
}

// Restart reports whether the digest starts a chain: its previous digest
// fields are null (logging was stopped, or validation turned off, before it).
func (d *Digest) Restart() bool {
	return d.PreviousDigestS3Object == nil || d.PreviousDigestS3Bucket == nil
}

// ErrFormat: a digest file that is not a digest.
var ErrFormat = errors.New("invalid digest format")

// requiredFields are the fields the AWS CLI requires before validating a
// digest (DigestTraverser.required_digest_keys); previousDigestSignature may
// be null but must be present.
var requiredFields = []string{
	"digestPublicKeyFingerprint", "digestS3Bucket", "digestS3Object",
	"previousDigestSignature", "digestEndTime", "digestStartTime",
}

// ParseDigest parses an uncompressed digest file.
func ParseDigest(raw []byte) (*Digest, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, fmt.Errorf("%w: not a JSON object: %w", ErrFormat, err)
	}
	for _, f := range requiredFields {
		if _, ok := fields[f]; !ok {
			return nil, fmt.Errorf("%w: no %s", ErrFormat, f)
		}
	}
	var d Digest
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	for _, t := range []struct {
		name string
		raw  *string
		at   *time.Time
	}{{"digestStartTime", &d.RawStartTime, &d.StartTime}, {"digestEndTime", &d.RawEndTime, &d.EndTime}} {
		if err := json.Unmarshal(fields[t.name], t.raw); err != nil {
			return nil, fmt.Errorf("%w: %s is not a string", ErrFormat, t.name)
		}
		at, err := time.Parse(time.RFC3339, *t.raw)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrFormat, t.name, err)
		}
		*t.at = at.UTC()
	}
	if d.S3Bucket == "" || d.S3Object == "" || d.PublicKeyFingerprint == "" {
		return nil, fmt.Errorf("%w: empty digestS3Bucket, digestS3Object or digestPublicKeyFingerprint", ErrFormat)
	}
	if d.Restart() != (d.PreviousDigestSignature == nil) {
		return nil, fmt.Errorf("%w: previous digest fields are partly null", ErrFormat)
	}
	return &d, nil
}

// StringToSign is AWS's data signing string: digestEndTime,
// digestS3Bucket/digestS3Object, the hex SHA-256 of the uncompressed digest
// file, and previousDigestSignature ("null" for the first digest of a
// chain), joined by "\n".
func StringToSign(d *Digest, raw []byte) string {
	sum := sha256.Sum256(raw)
	prev := "null"
	if d.PreviousDigestSignature != nil {
		prev = *d.PreviousDigestSignature
	}
	return d.RawEndTime + "\n" + d.S3Bucket + "/" + d.S3Object + "\n" + hex.EncodeToString(sum[:]) + "\n" + prev
}

// ErrSignature: the signature does not verify.
var ErrSignature = errors.New("signature verification failed")

// VerifySignature checks signatureHex (the signature metadata) over the
// digest's string to sign with RSA PKCS #1 v1.5 and SHA-256.
func VerifySignature(pub *rsa.PublicKey, d *Digest, raw []byte, signatureHex string) error {
	sig, err := hex.DecodeString(signatureHex)
	if err != nil {
		return fmt.Errorf("%w: signature metadata is not hex", ErrSignature)
	}
	h := sha256.Sum256([]byte(StringToSign(d, raw)))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig); err != nil {
		return ErrSignature
	}
	return nil
}

// HashHex is the hex SHA-256 of b (a digest's previousDigestHashValue of
// its predecessor's uncompressed bytes).
func HashHex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
