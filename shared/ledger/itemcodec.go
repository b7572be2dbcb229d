package ledger

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"time"
)

// # The packed item
//
// Since the watchdog became the items' only writer (fold.go), an item holds
// every Region in one binary attribute, rewritten whole by each fold:
//
//	AccountId  S  "333333333333"
//	R          B  the Regions (EncodeRegions)
//	F          N  the last journal slot folded into R (epoch seconds of its start)
//	UpdatedAt  N  epoch seconds of the last write
//
// Attribute names no longer carry Region names, Regions are one-byte ids
// (regionid.go), times are deltas from one base, and K# keeps only the
// unique string of the newest log file's name: an item with 17 Regions of
// digests and log files and two days of counts is about 0.6 KB, one write
// unit (TestItemSizeByActiveRegions). Items written by earlier releases
// (L#, D#, K#, C# attributes) read the same; the first fold rewrites them.

// Item attributes of the packed form.
const (
	PackedAttribute = "R"
	FoldedAttribute = "F"
)

// packedVersion is the first byte of R.
const packedVersion = 1

// Flags of a packed Region.
const (
	packedLog        = 1 << 0
	packedDigest     = 1 << 1
	packedKeyCompact = 1 << 2 // uvarint minutes before the log time · 16-byte unique string
	packedKeyRaw     = 1 << 3 // uvarint length · the value as K# held it
	packedCountShift = 4      // bits 4–5: how many days of counts follow
	packedKnownFlags = 0x3f
)

// Bounds of the packed form, checked on both sides.
const (
	maxPackedRegions = 256
	maxPackedCounts  = 3
	maxRawKeyBytes   = 1024
	maxEpoch         = 1 << 40
	uniqueLen        = 16
	// maxCountDay is 9999-12-31, the last day yyyymmdd can name.
	maxCountDay = 2932896
)

// ErrItemCorrupt is wrapped by every DecodeRegions error.
var ErrItemCorrupt = errors.New("ledger: corrupt packed Regions")

// EncodeRegions packs an account's Regions (R):
//
//	version (1 byte) · uvarint base (the oldest time held, epoch seconds) ·
//	uvarint Region count · Regions in name order, each: uvarint id (0: a
//	uvarint length and the name follow) · flags · [uvarint log − base] ·
//	[uvarint digest − base] · [key] · counts × (varint day − base's day,
//	uvarint files)
//
// Counts of zero or less and days that are not yyyymmdd are left out; of
// more than three days the newest three are kept.
func EncodeRegions(account string, regions map[string]RegionState) ([]byte, error) {
	if len(regions) > maxPackedRegions {
		return nil, fmt.Errorf("ledger: %d Regions (at most %d)", len(regions), maxPackedRegions)
	}
	names := make([]string, 0, len(regions))
	base := int64(-1)
	for name, rs := range regions {
		if name == "" || len(name) > maxJournalRegionBytes {
			return nil, fmt.Errorf("ledger: Region %q", name)
		}
		names = append(names, name)
		for _, t := range []time.Time{rs.LastLog, rs.LastDigest} {
			if t.IsZero() {
				continue
			}
			if s := t.Unix(); s < 0 || s >= maxEpoch {
				return nil, fmt.Errorf("ledger: time %s out of range", t)
			} else if base < 0 || s < base {
				base = s
			}
		}
	}
	sort.Strings(names)
	base = max(base, 0)
	baseDay := int64(dayOf(base))
	buf := make([]byte, 0, 8+len(regions)*32)
	buf = append(buf, packedVersion)
	buf = binary.AppendUvarint(buf, uint64(base))
	buf = binary.AppendUvarint(buf, uint64(len(names)))
	for _, name := range names {
		buf = appendRegion(buf, account, name, regions[name], base, baseDay)
	}
	return buf, nil
}

func appendRegion(buf []byte, account, name string, rs RegionState, base, baseDay int64) []byte {
	if id, ok := regionIDs[name]; ok {
		buf = binary.AppendUvarint(buf, id)
	} else {
		buf = binary.AppendUvarint(buf, 0)
		buf = binary.AppendUvarint(buf, uint64(len(name)))
		buf = append(buf, name...)
	}
	var flags byte
	if !rs.LastLog.IsZero() {
		flags |= packedLog
	}
	if !rs.LastDigest.IsZero() {
		flags |= packedDigest
	}
	key, ago, compact := packKey(account, name, rs)
	switch {
	case compact:
		flags |= packedKeyCompact
	case key != "":
		flags |= packedKeyRaw
	}
	counts := packCounts(rs.Counts)
	flags |= byte(len(counts)) << packedCountShift
	buf = append(buf, flags)
	if flags&packedLog != 0 {
		buf = binary.AppendUvarint(buf, uint64(rs.LastLog.Unix()-base))
	}
	if flags&packedDigest != 0 {
		buf = binary.AppendUvarint(buf, uint64(rs.LastDigest.Unix()-base))
	}
	switch {
	case compact:
		buf = binary.AppendUvarint(buf, ago)
		buf = append(buf, key...)
	case key != "":
		buf = binary.AppendUvarint(buf, uint64(len(key)))
		buf = append(buf, key...)
	}
	for _, c := range counts {
		buf = binary.AppendVarint(buf, int64(c.day)-baseDay)
		buf = binary.AppendUvarint(buf, uint64(c.n))
	}
	return buf
}

// packKey returns what R holds of a Region's newest key: its unique string
// and how many minutes before the log time its stamp is (compact), or the
// value K# would hold (raw; "" for none).
func packKey(account, region string, rs RegionState) (string, uint64, bool) {
	if rs.LastKey == "" {
		return "", 0, false
	}
	v := compactKeyName(account, region, rs.LastKey)
	if len(v) > maxRawKeyBytes {
		v = v[:maxRawKeyBytes]
	}
	if !isCompactKey(v) || rs.LastLog.IsZero() {
		return v, 0, false
	}
	stamp, err := time.Parse(keyStampLayout, v[:14])
	if err != nil {
		return v, 0, false
	}
	d := rs.LastLog.Unix() - stamp.Unix()
	if d < 0 || d%60 != 0 || stamp.Unix() < 0 {
		return v, 0, false
	}
	return v[15:], uint64(d / 60), true
}

// keyStampLayout is a log file name's time stamp.
const keyStampLayout = "20060102T1504Z"

type packedCount struct {
	day uint32
	n   uint64
}

// packCounts returns a Region's counts to pack, oldest day first, at most
// maxPackedCounts (the newest).
func packCounts(counts map[string]int64) []packedCount {
	var out []packedCount
	for day, n := range counts {
		d, err := time.Parse("20060102", day)
		if err != nil || n <= 0 || n > 1<<40 || d.Unix() < 0 {
			continue
		}
		out = append(out, packedCount{day: dayOf(d.Unix()), n: uint64(n)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].day < out[j].day })
	if len(out) > maxPackedCounts {
		out = out[len(out)-maxPackedCounts:]
	}
	return out
}

// DecodeRegions reads what EncodeRegions wrote. It reads untrusted bytes
// strictly: a wrong version, a bound exceeded, an unknown flag, a Region
// twice, a truncated or overlong value, or trailing bytes is an error
// wrapping ErrItemCorrupt, never a panic.
func DecodeRegions(account string, b []byte) (map[string]RegionState, error) {
	d := &byteReader{b: b}
	fail := func(format string, args ...any) (map[string]RegionState, error) {
		return nil, fmt.Errorf("%w: %s", ErrItemCorrupt, fmt.Sprintf(format, args...))
	}
	if v, ok := d.byte(); !ok || v != packedVersion {
		return fail("unknown version")
	}
	base, ok := d.uvarint()
	if !ok || base >= maxEpoch {
		return fail("base time")
	}
	n, ok := d.uvarint()
	if !ok || n > maxPackedRegions || n > uint64(d.left())/2 {
		return fail("Region count")
	}
	out := make(map[string]RegionState, n)
	for i := 0; i < int(n); i++ {
		name, rs, err := d.region(account, int64(base))
		if err != nil {
			return fail("Region %d: %v", i, err)
		}
		if _, dup := out[name]; dup {
			return fail("Region %s twice", name)
		}
		out[name] = rs
	}
	if d.left() != 0 {
		return fail("%d trailing bytes", d.left())
	}
	return out, nil
}

// byteReader reads a packed value.
type byteReader struct {
	b []byte
	p int
}

func (d *byteReader) left() int { return len(d.b) - d.p }

func (d *byteReader) byte() (byte, bool) {
	if d.p >= len(d.b) {
		return 0, false
	}
	d.p++
	return d.b[d.p-1], true
}

func (d *byteReader) uvarint() (uint64, bool) {
	v, n := binary.Uvarint(d.b[d.p:])
	if n <= 0 {
		return 0, false
	}
	d.p += n
	return v, true
}

func (d *byteReader) varint() (int64, bool) {
	v, n := binary.Varint(d.b[d.p:])
	if n <= 0 {
		return 0, false
	}
	d.p += n
	return v, true
}

// bytes reads n bytes (nil, false past the end).
func (d *byteReader) bytes(n uint64) ([]byte, bool) {
	if n > uint64(d.left()) {
		return nil, false
	}
	d.p += int(n)
	return d.b[d.p-int(n) : d.p], true
}

// delta reads an offset from base that stays a valid time.
func (d *byteReader) delta(base int64) (int64, bool) {
	v, ok := d.uvarint()
	if !ok || v >= maxEpoch || base+int64(v) >= maxEpoch {
		return 0, false
	}
	return base + int64(v), true
}

func (d *byteReader) region(account string, base int64) (string, RegionState, error) {
	var rs RegionState
	id, ok := d.uvarint()
	if !ok || id >= uint64(len(regionNames)) {
		return "", rs, errors.New("unknown Region id")
	}
	name := regionNames[id]
	if id == 0 {
		l, ok := d.uvarint()
		raw, ok2 := d.bytes(l)
		if !ok || !ok2 || l == 0 || l > maxJournalRegionBytes {
			return "", rs, errors.New("bad Region name")
		}
		if name = string(raw); regionIDs[name] != 0 {
			return "", rs, errors.New("named Region that has an id")
		}
	}
	flags, ok := d.byte()
	if !ok || flags&^packedKnownFlags != 0 || flags&packedKeyCompact != 0 && flags&packedKeyRaw != 0 ||
		flags&packedKeyCompact != 0 && flags&packedLog == 0 {
		return "", rs, errors.New("flags")
	}
	if flags&packedLog != 0 {
		t, ok := d.delta(base)
		if !ok {
			return "", rs, errors.New("log time")
		}
		rs.LastLog = time.Unix(t, 0).UTC()
	}
	if flags&packedDigest != 0 {
		t, ok := d.delta(base)
		if !ok {
			return "", rs, errors.New("digest time")
		}
		rs.LastDigest = time.Unix(t, 0).UTC()
	}
	if err := d.key(account, name, flags, &rs); err != nil {
		return "", rs, err
	}
	if err := d.counts(int(flags>>packedCountShift), base, &rs); err != nil {
		return "", rs, err
	}
	return name, rs, nil
}

func (d *byteReader) key(account, region string, flags byte, rs *RegionState) error {
	switch {
	case flags&packedKeyCompact != 0:
		ago, ok := d.uvarint()
		u, ok2 := d.bytes(uniqueLen)
		if !ok || !ok2 || ago > uint64(rs.LastLog.Unix())/60 {
			return errors.New("key")
		}
		v := rs.LastLog.Add(-time.Duration(ago)*time.Minute).Format(keyStampLayout) + "_" + string(u)
		if !isCompactKey(v) {
			return errors.New("key's unique string")
		}
		rs.LastKey = expandKeyName(account, region, v)
	case flags&packedKeyRaw != 0:
		l, ok := d.uvarint()
		v, ok2 := d.bytes(l)
		if !ok || !ok2 || l == 0 || l > maxRawKeyBytes {
			return errors.New("key")
		}
		rs.LastKey = expandKeyName(account, region, string(v))
	}
	return nil
}

func (d *byteReader) counts(k int, base int64, rs *RegionState) error {
	baseDay := int64(dayOf(base))
	for j := 0; j < k; j++ {
		off, ok := d.varint()
		n, ok2 := d.uvarint()
		day := baseDay + off
		if !ok || !ok2 || n == 0 || n > 1<<40 || day < 0 || day > maxCountDay {
			return errors.New("count")
		}
		if rs.Counts == nil {
			rs.Counts = make(map[string]int64, k)
		}
		name := dayName(uint32(day))
		if _, dup := rs.Counts[name]; dup {
			return errors.New("count of a day twice")
		}
		rs.Counts[name] = int64(n)
	}
	return nil
}
