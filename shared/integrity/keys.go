package integrity

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// RotationBuffer widens a regular digest's period when its signing key is
// looked up: the AWS CLI asks ListPublicKeys for keys up to 2 hours after the
// period it validates, so a digest signed just after a key rotation finds
// the new key (aws-cli 2026 releases).
const RotationBuffer = 2 * time.Hour

// BackfillKeyWindow is how far around a backfill digest's
// backfill-generation-timestamp its key is looked up: backfill digests are
// signed with the key current when they are generated, which may come after
// the period they cover.
const BackfillKeyWindow = time.Hour

// PublicKey is one element of ListPublicKeys' PublicKeyList.
type PublicKey struct {
	Fingerprint string
	Key         *rsa.PublicKey
	Start, End  time.Time
}

// KeySource supplies the public keys of a home Region whose validity overlaps
// [start, end] (ListPublicKeys, or a saved list).
type KeySource interface {
	PublicKeys(ctx context.Context, homeRegion string, start, end time.Time) ([]PublicKey, error)
}

// ErrKeys: a public key list that cannot be read.
var ErrKeys = errors.New("invalid public key list")

type rawKey struct {
	Value             string          `json:"Value"`
	ValidityStartTime json.RawMessage `json:"ValidityStartTime"`
	ValidityEndTime   json.RawMessage `json:"ValidityEndTime"`
	Fingerprint       string          `json:"Fingerprint"`
}

// ParsePublicKeys reads what `aws cloudtrail list-public-keys` prints:
// {"PublicKeyList": [{"Value": base64 DER PKCS #1, "ValidityStartTime",
// "ValidityEndTime", "Fingerprint"}]}, times as ISO 8601 strings or epoch
// seconds.
func ParsePublicKeys(b []byte) ([]PublicKey, error) {
	var doc struct {
		PublicKeyList *[]rawKey `json:"PublicKeyList"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKeys, err)
	}
	if doc.PublicKeyList == nil {
		return nil, fmt.Errorf("%w: no PublicKeyList", ErrKeys)
	}
	out := make([]PublicKey, 0, len(*doc.PublicKeyList))
	for i, r := range *doc.PublicKeyList {
		k, err := parseRawKey(r)
		if err != nil {
			return nil, fmt.Errorf("%w: PublicKeyList[%d]: %w", ErrKeys, i, err)
		}
		out = append(out, k)
	}
	return out, nil
}

func parseRawKey(r rawKey) (PublicKey, error) {
	if r.Fingerprint == "" {
		return PublicKey{}, errors.New("no Fingerprint")
	}
	der, err := base64.StdEncoding.DecodeString(r.Value)
	if err != nil {
		return PublicKey{}, fmt.Errorf("the Value field is not base64: %w", err)
	}
	pub, err := ParseDERKey(der)
	if err != nil {
		return PublicKey{}, err
	}
	start, err := parseKeyTime(r.ValidityStartTime)
	if err != nil {
		return PublicKey{}, fmt.Errorf("ValidityStartTime: %w", err)
	}
	end, err := parseKeyTime(r.ValidityEndTime)
	if err != nil {
		return PublicKey{}, fmt.Errorf("ValidityEndTime: %w", err)
	}
	return PublicKey{Fingerprint: r.Fingerprint, Key: pub, Start: start, End: end}, nil
}

// ParseDERKey parses a DER PKCS #1 RSA public key (ListPublicKeys' Value).
func ParseDERKey(der []byte) (*rsa.PublicKey, error) {
	pub, err := x509.ParsePKCS1PublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("not a DER PKCS #1 RSA public key: %w", err)
	}
	return pub, nil
}

func parseKeyTime(raw json.RawMessage) (time.Time, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999-07:00"} {
			if t, err := time.Parse(layout, s); err == nil {
				return t.UTC(), nil
			}
		}
		return time.Time{}, fmt.Errorf("%q is not an ISO 8601 time", s)
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return time.Time{}, errors.New("neither a string nor a number")
	}
	f, err := strconv.ParseFloat(n.String(), 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > 1e11 {
		return time.Time{}, fmt.Errorf("%s is not epoch seconds", n)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
}

// StaticKeys is a KeySource over a fixed list (a --public-keys file): every
// Region sees the same list, filtered by validity.
type StaticKeys []PublicKey

// PublicKeys returns the keys whose validity overlaps [start, end].
func (s StaticKeys) PublicKeys(_ context.Context, _ string, start, end time.Time) ([]PublicKey, error) {
	var out []PublicKey
	for _, k := range s {
		if overlaps(k, start, end) {
			out = append(out, k)
		}
	}
	return out, nil
}

func overlaps(k PublicKey, start, end time.Time) bool {
	return !k.Start.After(end) && !k.End.Before(start)
}

// keyRange is the validity range a digest's key must overlap: the digest's
// period with RotationBuffer after it, or for a backfill digest its
// generation time ± BackfillKeyWindow.
func keyRange(d *Digest, backfill bool, generated time.Time) (time.Time, time.Time) {
	if backfill {
		return generated.Add(-BackfillKeyWindow), generated.Add(BackfillKeyWindow)
	}
	return d.StartTime, d.EndTime.Add(RotationBuffer)
}
