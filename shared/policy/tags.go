package policy

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
)

// ManagedTagsKey is the trail tag through which trailwarden remembers which
// tag keys it set, so that a later converge removes a tag the policy no
// longer sets without touching tags someone else put on the trail.
const ManagedTagsKey = "trailwarden:managed-tags"

// Tag limits of CloudTrail (API Reference, Tag and AddTags): a key is 1 to
// 128 Unicode characters, a value 1 to 256, both match
// ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$ (else InvalidTagParameterException), and
// a trail holds at most 50 tags.
const (
	MaxTagKeyLen   = 128
	MaxTagValueLen = 256
	MaxTrailTags   = 50
)

// MaxTags is the tags a policy may set: CloudTrail allows 50 per trail and
// trailwarden keeps one (ManagedTagsKey) for itself.
const MaxTags = MaxTrailTags - 1

// The managed-tags value is managedTagsVersion followed by the sorted,
// de-duplicated fingerprints of the managed keys, each fingerprintLen
// characters: the first 30 bits of the key's SHA-256 in unpadded base64url
// (letters, digits, '-' and '_'). It fits any policy, because
// len("v1.") + 49*5 = 248 <= 256, and every character matches CloudTrail's
// tag pattern, where no separator could: a key may hold any character the
// pattern allows. With no tags the value is just "v1.", so it is never
// empty. A live tag is removed only when its key is not desired and its
// fingerprint is listed: a tag someone else added is left alone unless its
// 30-bit fingerprint equals one of a managed key's (about 5e-8 per tag).
const (
	managedTagsVersion = "v1."
	fingerprintLen     = 5
)

func fingerprint(key string) string {
	sum := sha256.Sum256([]byte(key))
	return base64.RawURLEncoding.EncodeToString(sum[:4])[:fingerprintLen]
}

// ManagedTagsValue encodes a set of managed tag keys as the value of
// ManagedTagsKey.
func ManagedTagsValue(keys []string) string {
	fps := make([]string, 0, len(keys))
	for _, k := range keys {
		fps = append(fps, fingerprint(k))
	}
	slices.Sort(fps)
	return managedTagsVersion + strings.Join(slices.Compact(fps), "")
}

// ManagedTags is a decoded ManagedTagsKey value.
type ManagedTags struct {
	fingerprints map[string]bool
	legacy       map[string]bool
}

// ParseManagedTags decodes a ManagedTagsKey value. A value without the
// version prefix is read as the comma-separated key list of earlier
// releases. Unknown input manages nothing.
func ParseManagedTags(value string) ManagedTags {
	m := ManagedTags{fingerprints: map[string]bool{}, legacy: map[string]bool{}}
	rest, ok := strings.CutPrefix(value, managedTagsVersion)
	if !ok {
		for _, k := range strings.Split(value, ",") {
			if k != "" {
				m.legacy[k] = true
			}
		}
		return m
	}
	if len(rest)%fingerprintLen != 0 {
		return m
	}
	for i := 0; i < len(rest); i += fingerprintLen {
		m.fingerprints[rest[i:i+fingerprintLen]] = true
	}
	return m
}

// Manages reports whether key was set by trailwarden.
func (m ManagedTags) Manages(key string) bool {
	if key == ManagedTagsKey {
		return false
	}
	return m.legacy[key] || m.fingerprints[fingerprint(key)]
}

// CheckTag reports a tag key or value CloudTrail refuses, or one of the
// prefixes reserved by AWS and trailwarden.
func CheckTag(key, value string) error {
	switch n := len([]rune(key)); {
	case n == 0 || n > MaxTagKeyLen:
		return fmt.Errorf("tag keys must be 1 to %d characters", MaxTagKeyLen)
	case !tagKeyRe.MatchString(key):
		return fmt.Errorf("tag key %q may contain only letters, digits, spaces and _ . : / = + - @", key)
	case strings.HasPrefix(strings.ToLower(key), "aws:"):
		return fmt.Errorf("tag keys starting with aws: are reserved by AWS")
	case strings.HasPrefix(strings.ToLower(key), "trailwarden:"):
		return fmt.Errorf("tag keys starting with trailwarden: are reserved by trailwarden")
	}
	switch n := len([]rune(value)); {
	case n == 0:
		return fmt.Errorf("tag values must not be empty (CloudTrail requires 1 to %d characters)", MaxTagValueLen)
	case n > MaxTagValueLen:
		return fmt.Errorf("tag values must be at most %d characters", MaxTagValueLen)
	case !tagKeyRe.MatchString(value):
		return fmt.Errorf("tag value %q may contain only letters, digits, spaces and _ . : / = + - @", value)
	}
	return nil
}

// trailTags is the trail's full tag list as CreateTrail sends it: the
// policy's tags sorted by key, then ManagedTagsKey.
func trailTags(tags map[string]string) []Tag {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]Tag, 0, len(keys)+1)
	for _, k := range keys {
		out = append(out, Tag{Key: k, Value: tags[k]})
	}
	return append(out, Tag{Key: ManagedTagsKey, Value: ManagedTagsValue(keys)})
}
