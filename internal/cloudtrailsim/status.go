package cloudtrailsim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// ControlPath is the emulator's test-only trail-status route (served by the
// patched launcher, internal/emulator/moto/patches/control.py).
const ControlPath = "/_trailwarden/trail-status"

// RecordStatus sets GetTrailStatus fields of the trail in account and
// region through the emulator's control endpoint (no-op without
// Options.ControlURL). Field names are GetTrailStatus's (LatestDeliveryTime,
// LatestDeliveryError, …); times are epoch seconds or ISO-8601 strings; nil
// or "" clears a field.
func (d *Deliverer) RecordStatus(ctx context.Context, account, region string, fields map[string]any) error {
	return d.recordStatus(ctx, account, region, d.trail.Name, fields)
}

func (d *Deliverer) recordStatus(ctx context.Context, account, region, trail string, fields map[string]any) error {
	if d.opts.ControlURL == "" {
		return nil
	}
	body, err := json.Marshal(map[string]any{
		"account": account, "region": region, "trailName": trail, "fields": fields,
	})
	if err != nil {
		return fmt.Errorf("cloudtrailsim: encode trail status: %w", err)
	}
	url := strings.TrimSuffix(d.opts.ControlURL, "/") + ControlPath
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("cloudtrailsim: trail status request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := d.http.Do(req)
	if err != nil {
		return fmt.Errorf("cloudtrailsim: record trail status of %s in %s/%s: %w", trail, account, region, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("cloudtrailsim: record trail status of %s in %s/%s: HTTP %d: %s",
			trail, account, region, resp.StatusCode, strings.TrimSpace(string(msg)))
	}
	return nil
}

func (d *Deliverer) noteStatus(sc scope, f func(*TrailStatusTimes)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.status[sc]
	f(&s)
	d.status[sc] = s
}

// SetDeliveryError simulates a bucket CloudTrail cannot write to (e.g.
// errText "AccessDenied" or "NoSuchBucket") for account in region: it sets
// LatestDeliveryError and LatestDigestDeliveryError in the trail status, and
// log-file, digest and Insights deliveries for that account and Region then
// fail with ErrDeliveryFailed, writing nothing. errText "" repairs the bucket
// and clears both errors. trail "" means the Deliverer's trail.
func (d *Deliverer) SetDeliveryError(ctx context.Context, account, region, trail, errText string) error {
	if trail == "" {
		trail = d.trail.Name
	}
	sc := scope{account, region}
	d.mu.Lock()
	if errText == "" {
		delete(d.blocked, sc)
	} else {
		d.blocked[sc] = errText
	}
	d.mu.Unlock()
	return d.recordStatus(ctx, account, region, trail, map[string]any{
		"LatestDeliveryError": errText, "LatestDigestDeliveryError": errText,
	})
}
