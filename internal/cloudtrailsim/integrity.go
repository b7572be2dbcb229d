package cloudtrailsim

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Simulated key validity bounds: AWS does not document how long a digest
// signing key is valid. The first key is valid from DefaultKeyValidFrom
// (unless Options.KeyValidFrom says otherwise) and the current key until
// OpenKeyValidity.
var (
	DefaultKeyValidFrom = time.Date(2015, 11, 1, 0, 0, 0, 0, time.UTC)
	OpenKeyValidity     = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
)

// KeyInfo is one digest signing key as ListPublicKeys reports it: the DER
// PKCS #1 public key, its fingerprint and its validity.
type KeyInfo struct {
	Fingerprint string
	DER         []byte
	Start, End  time.Time
}

// ListPublicKeysEntry is the key in the shape of ListPublicKeys'
// PublicKeyList element as the AWS CLI prints it (Value base64, times
// ISO 8601).
func (k KeyInfo) ListPublicKeysEntry() map[string]any {
	return map[string]any{
		"Value":             base64.StdEncoding.EncodeToString(k.DER),
		"Fingerprint":       k.Fingerprint,
		"ValidityStartTime": k.Start.UTC().Format(time.RFC3339),
		"ValidityEndTime":   k.End.UTC().Format(time.RFC3339),
	}
}

func keyInfo(key *rsa.PrivateKey, start, end time.Time) KeyInfo {
	if start.IsZero() {
		start = DefaultKeyValidFrom
	}
	if end.IsZero() {
		end = OpenKeyValidity
	}
	return KeyInfo{Fingerprint: Fingerprint(&key.PublicKey), DER: x509.MarshalPKCS1PublicKey(&key.PublicKey), Start: start.UTC(), End: end.UTC()}
}

// PublicKeys returns every key the Deliverer has signed with, oldest first.
func (d *Deliverer) PublicKeys() []KeyInfo {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]KeyInfo(nil), d.keys...)
}

// RotateKey makes key the signing key from at on, as CloudTrail rotates
// its Regional keys: the previous key's validity ends at at.
func (d *Deliverer) RotateKey(at time.Time, key *rsa.PrivateKey) error {
	if key == nil {
		return errors.New("cloudtrailsim: rotate to a nil key")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	cur := &d.keys[len(d.keys)-1]
	if !at.After(cur.Start) {
		return fmt.Errorf("cloudtrailsim: rotation at %s is not after the current key's start %s", at, cur.Start)
	}
	cur.End = at.UTC()
	d.keys = append(d.keys, keyInfo(key, at, time.Time{}))
	d.key, d.fp = key, Fingerprint(&key.PublicKey)
	return nil
}

// DeliverBackfillDigest writes a backfill digest (key suffix "_backfill",
// metadata backfill-generation-timestamp) ending at end and listing
// logFiles, which must be log files this Deliverer delivered; it is signed
// with the key current at generated, which may be later than the period it
// covers. Backfill digests form their own chain per account and Region.
// They update no trail status.
func (d *Deliverer) DeliverBackfillDigest(ctx context.Context, account, region string, end, generated time.Time, logFiles []string) (DigestFile, error) {
	if generated.IsZero() {
		return DigestFile{}, errors.New("cloudtrailsim: backfill digest needs its generation time")
	}
	if logFiles == nil {
		logFiles = []string{}
	}
	return d.deliverDigest(ctx, account, region, end, logFiles, generated)
}

// KeysPath is the emulator's test-only route that sets what ListPublicKeys
// returns in a Region (internal/emulator/moto/patches/cloudtrail_keys.py).
const KeysPath = "/_trailwarden/public-keys"

// RegisterPublicKeys makes the emulator's ListPublicKeys in each of regions
// (the trail's home Region when none is given) return the Deliverer's keys
// (no-op without Options.ControlURL). Call it again after RotateKey.
func (d *Deliverer) RegisterPublicKeys(ctx context.Context, regions ...string) error {
	if d.opts.ControlURL == "" {
		return nil
	}
	if len(regions) == 0 {
		regions = []string{d.trail.HomeRegion}
	}
	var entries []map[string]any
	for _, k := range d.PublicKeys() {
		entries = append(entries, k.ListPublicKeysEntry())
	}
	for _, region := range regions {
		body, err := json.Marshal(map[string]any{"region": region, "keys": entries})
		if err != nil {
			return fmt.Errorf("cloudtrailsim: encode public keys: %w", err)
		}
		if err := d.post(ctx, KeysPath, body); err != nil {
			return fmt.Errorf("cloudtrailsim: register public keys in %s: %w", region, err)
		}
	}
	return nil
}

// post sends a JSON body to a control route and expects 200.
func (d *Deliverer) post(ctx context.Context, path string, body []byte) error {
	url := strings.TrimSuffix(d.opts.ControlURL, "/") + path
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := d.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(msg)))
	}
	return nil
}
