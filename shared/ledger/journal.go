package ledger

// # The arrival journal
//
// The per-account items are the ledger's long memory; the journal is its
// short one. Every verifier invocation appends ONE journal item before it
// returns: for every account × Region it saw, the newest log and digest
// times, the log files it counted and now and then the newest file's name,
// packed in a compact binary attribute. A batch of 100 notifications is
// about 100 entries of ~9 bytes (a name adds 16): one write unit, whatever
// the number of accounts in it (BenchmarkLedgerModel: 1.04–1.08 units per
// item). The verifier writes nothing else; the watchdog folds the journal
// into the items (fold.go).
//
// Readers (the watchdog, `trailwarden status`) read the journal items
// written in the last Horizon and raise the items with them (times, and
// the log files journaled since each item's fold): the ledger they see is
// never behind what the verifier has processed, and a verifier instance
// that dies loses nothing it acknowledged.
//
// Journal table layout (DynamoDB, partition key Slot, sort key Writer):
//
//	Slot       N   the 5-minute wall-clock slot of the write (epoch seconds of its start)
//	Writer     S   "<writer id>#<sequence>": unique per write, idempotent under SDK retries
//	E          B   the entries (EncodeJournal)
//	ExpiresAt  N   TTL (epoch seconds): Horizon plus an hour after the write
//
// A reader queries the slots of the last Horizon, one partition each, so
// expired items that DynamoDB's TTL has not deleted yet are never read.

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/trailwarden/trailwarden/shared/awsid"
)

// Journal table attributes.
const (
	JournalSlotAttribute    = "Slot"
	JournalWriterAttribute  = "Writer"
	JournalEntriesAttribute = "E"
	JournalExpiresAttribute = "ExpiresAt"
)

// JournalSlot is the width of a journal partition (wall clock of writes).
const JournalSlot = 5 * time.Minute

// DefaultItemInterval is how often the watchdog writes an account's item
// (fold.go).
const DefaultItemInterval = time.Hour

// DefaultLagAllowance is how far the ledger as read may lag a delivery: the
// queueing and batching before a verifier invocation journals it. The
// watchdog adds it to every threshold (deployment.ledger.coalesceWindow,
// the setting's former name, changes it).
const DefaultLagAllowance = 5 * time.Minute

// MinJournalHorizon is the shortest journal a reader looks at: the
// watchdog's heartbeat threshold (one hour of digests plus grace) with a
// margin.
const MinJournalHorizon = 75 * time.Minute

// JournalHorizon is how far back readers look for an item interval: the
// interval plus 15 minutes (a fold window is one interval of slots, folded
// a slot after its last one ends: two passes of margin), and never less
// than MinJournalHorizon.
func JournalHorizon(itemInterval time.Duration) time.Duration {
	if itemInterval <= 0 {
		itemInterval = DefaultItemInterval
	}
	return max(itemInterval+15*time.Minute, MinJournalHorizon)
}

// JournalEntry is one account × Region's newest time of one kind, as one
// verifier invocation saw it, and for log files what the item needs
// besides: the newest file's name and the files counted.
type JournalEntry struct {
	Account string
	Region  string
	Kind    ArrivalKind
	Time    time.Time
	// Key (log files; "" for none) is the newest file's name as K# holds
	// it (keyname.go): <YYYYMMDDTHHmmZ>_<unique>, whose stamp is Time's
	// minute, or a name off the grammar (at most 256 bytes).
	Key string
	// Files (log files) counts the files of up to two UTC days that the
	// invocation counted, oldest day first; unused elements are zero.
	Files [countDays]DayCount
}

// DayCount is a number of log files of one UTC day (days since
// 1970-01-01).
type DayCount struct {
	Day, N uint32
}

// Journal encoding versions: 1 carried times only (the previous
// release's, still read); 2 adds keys and counts.
const (
	journalVersionTimes = 1
	journalVersion      = 2
)

// Limits of the encoding, checked on both sides.
const (
	maxJournalRegions     = 256
	maxJournalRegionBytes = 32
	maxJournalKeyBytes    = 256
	// maxJournalEntries bounds one item's entries; put also splits by size
	// (DynamoDB's item limit is 400 KB).
	maxJournalEntries = 20000
	maxJournalBytes   = 300_000
	maxAccountNumber  = 999_999_999_999
)

// Entry tags (version 2), in the low two bits of the time field, and the
// extras byte of tagLogExtras.
const (
	tagLog       = 0 // a log file entry that counted one file of its day, without a key
	tagDigest    = 1
	tagLogExtras = 2 // a log file entry; an extras byte follows
	tagBits      = 2

	xKeyUnique = 1 << 0 // 16 bytes: the unique string; the stamp is the time's minute
	xKeyRaw    = 1 << 1 // uvarint length + the name
	xFiles     = 1 << 2 // uvarint days (0–2), then per day: uvarint days before the time's, uvarint files
	xKnown     = 1<<3 - 1
)

// EncodeJournal packs entries (at most 20,000, accounts of 12 digits,
// Regions of 1–32 bytes, times at or after 1970; keys and counts only on
// log file entries) into the E attribute:
//
//	version (1 byte, 2) · uvarint base time · uvarint Region count ·
//	Regions (uvarint length + bytes) · uvarint entry count · entries:
//	varint (account number − the previous entry's) · uvarint Region index ·
//	uvarint ((time − base) << 2 | tag) · [extras byte · [key] · [counts]]
//
// where entries sorted by account make the account field short (0 for the
// same account again), times are epoch seconds and the tag is 1 for a digest, 0 for a log
// file entry that counted one file of its own day and carries no key (the
// most common entry: ~9 bytes), 2 for any other log file entry: its extras
// byte says a key follows as its 16-byte unique string (the stamp is the
// time's minute) or whole (uvarint length + bytes), and whether counts
// follow (uvarint days, then per day uvarint days before the time's day
// and uvarint files; without them no file was counted).
func EncodeJournal(entries []JournalEntry) ([]byte, error) {
	if len(entries) > maxJournalEntries {
		return nil, fmt.Errorf("journal: %d entries (at most %d)", len(entries), maxJournalEntries)
	}
	regionIndex := map[string]int{}
	var regions []string
	base := int64(-1)
	for _, e := range entries {
		if err := checkEntry(e); err != nil {
			return nil, err
		}
		if _, ok := regionIndex[e.Region]; !ok {
			if len(regions) == maxJournalRegions {
				return nil, fmt.Errorf("journal: more than %d Regions", maxJournalRegions)
			}
			regionIndex[e.Region] = len(regions)
			regions = append(regions, e.Region)
		}
		if t := e.Time.Unix(); base < 0 || t < base {
			base = t
		}
	}
	base = max(base, 0)
	buf := make([]byte, 0, 16+len(regions)*12+len(entries)*16)
	buf = append(buf, journalVersion)
	buf = binary.AppendUvarint(buf, uint64(base))
	buf = binary.AppendUvarint(buf, uint64(len(regions)))
	for _, r := range regions {
		buf = binary.AppendUvarint(buf, uint64(len(r)))
		buf = append(buf, r...)
	}
	buf = binary.AppendUvarint(buf, uint64(len(entries)))
	prev := int64(0)
	for _, e := range entries {
		acct, _ := strconv.ParseInt(e.Account, 10, 64)
		buf = binary.AppendVarint(buf, acct-prev)
		prev = acct
		buf = binary.AppendUvarint(buf, uint64(regionIndex[e.Region]))
		buf = appendEntryBody(buf, e, base)
	}
	return buf, nil
}

func checkEntry(e JournalEntry) error {
	switch {
	case !awsid.IsAccountID(e.Account):
		return fmt.Errorf("journal: account %q is not 12 digits", e.Account)
	case e.Region == "" || len(e.Region) > maxJournalRegionBytes:
		return fmt.Errorf("journal: Region %q", e.Region)
	case e.Kind != ArrivalLog && e.Kind != ArrivalDigest:
		return fmt.Errorf("journal: kind %d", e.Kind)
	case e.Time.Unix() < 0 || e.Time.Unix() >= maxEpoch:
		return fmt.Errorf("journal: time %s out of range", e.Time)
	case len(e.Key) > maxJournalKeyBytes:
		return fmt.Errorf("journal: key of %d bytes", len(e.Key))
	case e.Kind == ArrivalDigest && (e.Key != "" || e.Files != [countDays]DayCount{}):
		return fmt.Errorf("journal: a digest entry with a key or counts")
	}
	today := dayOf(e.Time.Unix())
	for i, c := range e.Files {
		switch {
		case c.N == 0 && c.Day != 0:
			return fmt.Errorf("journal: count of day %d without files", c.Day)
		case c.N == 0:
			for _, rest := range e.Files[i:] {
				if rest.N != 0 {
					return fmt.Errorf("journal: counts not packed first")
				}
			}
		case c.Day > today || i > 0 && c.Day <= e.Files[i-1].Day:
			return fmt.Errorf("journal: count days out of order")
		}
	}
	return nil
}

// uniqueKey returns the unique string of key when key is the compact name
// of a file of t's minute.
func uniqueKey(key string, t time.Time) (string, bool) {
	if !isCompactKey(key) || key[:14] != t.UTC().Format(keyStampLayout) {
		return "", false
	}
	return key[15:], true
}

func appendEntryBody(buf []byte, e JournalEntry, base int64) []byte {
	delta := uint64(e.Time.Unix()-base) << tagBits
	if e.Kind == ArrivalDigest {
		return binary.AppendUvarint(buf, delta|tagDigest)
	}
	today := dayOf(e.Time.Unix())
	if e.Key == "" && e.Files == [countDays]DayCount{{Day: today, N: 1}} {
		return binary.AppendUvarint(buf, delta|tagLog)
	}
	buf = binary.AppendUvarint(buf, delta|tagLogExtras)
	unique, isUnique := uniqueKey(e.Key, e.Time)
	var extras byte = xFiles
	switch {
	case isUnique:
		extras |= xKeyUnique
	case e.Key != "":
		extras |= xKeyRaw
	}
	buf = append(buf, extras)
	switch {
	case isUnique:
		buf = append(buf, unique...)
	case e.Key != "":
		buf = binary.AppendUvarint(buf, uint64(len(e.Key)))
		buf = append(buf, e.Key...)
	}
	days := 0
	for _, c := range e.Files {
		if c.N > 0 {
			days++
		}
	}
	buf = binary.AppendUvarint(buf, uint64(days))
	for _, c := range e.Files[:days] {
		buf = binary.AppendUvarint(buf, uint64(today-c.Day))
		buf = binary.AppendUvarint(buf, uint64(c.N))
	}
	return buf
}

// ErrJournalCorrupt is wrapped by every DecodeJournal error.
var ErrJournalCorrupt = errors.New("journal: corrupt entries")

// DecodeJournal reads what EncodeJournal wrote, and the previous
// release's entries (version 1: times only). It reads untrusted bytes
// strictly: a wrong version, a bound exceeded, an index out of range, an
// unknown flag, a truncated or overlong value, or trailing bytes is an
// error wrapping ErrJournalCorrupt, never a panic.
func DecodeJournal(b []byte) ([]JournalEntry, error) {
	var out []JournalEntry
	var names []string
	_, err := decodeJournal(b, func(regions []string, n int) {
		names = regions
		out = make([]JournalEntry, 0, n)
	}, func(e *rawEntry) {
		out = append(out, JournalEntry{Account: accountID(e.account), Region: names[e.region], Kind: e.kind,
			Time: time.Unix(e.t, 0).UTC(), Key: e.keyName(), Files: e.files})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// accountID formats an account number as its 12 digits.
func accountID(n uint64) string {
	var buf [12]byte
	for i := 11; i >= 0; i-- {
		buf[i] = byte('0' + n%10)
		n /= 10
	}
	return string(buf[:])
}

// rawEntry is one decoded entry; key aliases the encoded bytes.
type rawEntry struct {
	account uint64
	region  int
	kind    ArrivalKind
	t       int64
	unique  bool // key is the unique string of a name of t's minute
	key     []byte
	files   [countDays]DayCount
}

// keyName is the entry's key as K# holds it.
func (e *rawEntry) keyName() string {
	if e.unique {
		return time.Unix(e.t, 0).UTC().Format(keyStampLayout) + "_" + string(e.key)
	}
	return string(e.key)
}

// decodeJournal validates b and calls each for every entry (after sized,
// with the item's Regions and entry count; each gets an index into them);
// see DecodeJournal.
func decodeJournal(b []byte, sized func(regions []string, n int), each func(*rawEntry)) (int, error) {
	fail := func(format string, args ...any) (int, error) {
		return 0, fmt.Errorf("%w: %s", ErrJournalCorrupt, fmt.Sprintf(format, args...))
	}
	d := &byteReader{b: b}
	version, ok := d.byte()
	if !ok || version != journalVersion && version != journalVersionTimes {
		return fail("unknown version")
	}
	base, ok := d.uvarint()
	if !ok || base > 1<<40 {
		return fail("base time")
	}
	nr, ok := d.uvarint()
	if !ok || nr > maxJournalRegions {
		return fail("Region count")
	}
	regions := make([]string, nr)
	for i := range regions {
		l, ok := d.uvarint()
		if !ok || l == 0 || l > maxJournalRegionBytes {
			return fail("Region %d", i)
		}
		name, ok := d.bytes(l)
		if !ok {
			return fail("Region %d", i)
		}
		regions[i] = string(name)
	}
	ne, ok := d.uvarint()
	if !ok || ne > maxJournalEntries || ne > uint64(d.left())/3 {
		return fail("entry count")
	}
	sized(regions, int(ne))
	var e rawEntry
	for i := 0; i < int(ne); i++ {
		if err := d.entry(version, base, nr, &e, e.account); err != nil {
			return fail("entry %d: %v", i, err)
		}
		each(&e)
	}
	if d.left() != 0 {
		return fail("%d trailing bytes", d.left())
	}
	return int(ne), nil
}

// entry reads one entry into e.
// (prev is the previous entry's account).
func (d *byteReader) entry(version byte, base, regions uint64, e *rawEntry, prev uint64) error {
	var acct uint64
	var ok1 bool
	if version == journalVersionTimes {
		acct, ok1 = d.uvarint()
	} else {
		var delta int64
		delta, ok1 = d.varint()
		acct = prev + uint64(delta)
	}
	ri, ok2 := d.uvarint()
	tk, ok3 := d.uvarint()
	if !ok1 || !ok2 || !ok3 {
		return errors.New("truncated")
	}
	bits := uint(tagBits)
	if version == journalVersionTimes {
		bits = 1 // kind: 0 log file, 1 digest
	}
	tag := tk & (1<<bits - 1)
	if acct > maxAccountNumber || ri >= regions || tk>>bits > 1<<40 || tag > tagLogExtras {
		return errors.New("out of range")
	}
	*e = rawEntry{account: acct, region: int(ri), kind: ArrivalLog, t: int64(base + tk>>bits)}
	switch {
	case tag == tagDigest:
		e.kind = ArrivalDigest
		return nil
	case version == journalVersionTimes:
		return nil
	case tag == tagLog:
		e.files[0] = DayCount{Day: dayOf(e.t), N: 1}
		return nil
	}
	extras, ok := d.byte()
	if !ok || extras&^xKnown != 0 || extras&xKeyUnique != 0 && extras&xKeyRaw != 0 || extras&xFiles == 0 {
		return errors.New("extras")
	}
	switch {
	case extras&xKeyUnique != 0:
		u, ok := d.bytes(uniqueLen)
		if !ok || !isCompactKey(time.Unix(e.t, 0).UTC().Format(keyStampLayout)+"_"+string(u)) {
			return errors.New("key")
		}
		e.unique, e.key = true, u
	case extras&xKeyRaw != 0:
		l, ok := d.uvarint()
		k, ok2 := d.bytes(l)
		if !ok || !ok2 || l == 0 || l > maxJournalKeyBytes {
			return errors.New("key")
		}
		e.key = k
		if _, unique := uniqueKey(string(k), time.Unix(e.t, 0)); unique {
			return errors.New("a whole key that has the unique form")
		}
	}
	return d.files(e)
}

// files reads an entry's counts.
func (d *byteReader) files(e *rawEntry) error {
	n, ok := d.uvarint()
	if !ok || n > countDays {
		return errors.New("count days")
	}
	today := uint64(dayOf(e.t))
	for i := 0; i < int(n); i++ {
		ago, ok1 := d.uvarint()
		files, ok2 := d.uvarint()
		if !ok1 || !ok2 || ago > today || files == 0 || files > 1<<32-1 {
			return errors.New("count")
		}
		e.files[i] = DayCount{Day: uint32(today - ago), N: uint32(files)}
		if i > 0 && e.files[i].Day <= e.files[i-1].Day {
			return errors.New("count days out of order")
		}
	}
	return nil
}

// JournalPutAPI is the part of DynamoDB the journal writer calls.
type JournalPutAPI interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
}

// JournalQueryAPI is the part of DynamoDB the journal reader calls.
type JournalQueryAPI interface {
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

var (
	_ JournalPutAPI   = (*dynamodb.Client)(nil)
	_ JournalQueryAPI = (*dynamodb.Client)(nil)
)

// Journal configures a Writer's journal (WriterOptions.Journal).
type Journal struct {
	// DB and Table are the journal table; both required.
	DB    JournalPutAPI
	Table string
	// WriterID names this writer in the Writer attribute (a random id when
	// empty): one per warm instance.
	WriterID string
	// Retain is how long after a write its item is kept (the TTL):
	// JournalHorizon(ItemInterval) + 1 hour when 0.
	Retain time.Duration
}

// journalState is a Writer's journal configuration and write sequence;
// seq is guarded by Writer.mu.
type journalState struct {
	cfg Journal
	seq uint64
}

func newJournalState(cfg Journal, itemInterval time.Duration) *journalState {
	if cfg.WriterID == "" {
		var b [6]byte
		_, _ = rand.Read(b[:])
		cfg.WriterID = hex.EncodeToString(b[:])
	}
	if cfg.Retain <= 0 {
		cfg.Retain = JournalHorizon(itemInterval) + time.Hour
	}
	return &journalState{cfg: cfg}
}

// put writes entries as one journal item, or more when they pass the
// encoding's bounds, returning the items written and the write units
// DynamoDB reported.
func (j *journalState) put(ctx context.Context, entries []JournalEntry, now time.Time, seq uint64) (int, float64, error) {
	var wcu float64
	writes := 0
	for part := 0; len(entries) > 0; part++ {
		n := min(len(entries), maxJournalEntries)
		blob, err := EncodeJournal(entries[:n])
		for err == nil && len(blob) > maxJournalBytes && n > 1 {
			n /= 2
			blob, err = EncodeJournal(entries[:n])
		}
		if err != nil {
			return writes, wcu, err
		}
		slot := now.UTC().Truncate(JournalSlot)
		writer := j.cfg.WriterID + "#" + strconv.FormatUint(seq, 10)
		if part > 0 {
			writer += "." + strconv.Itoa(part)
		}
		out, err := j.cfg.DB.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: aws.String(j.cfg.Table),
			Item: map[string]ddbtypes.AttributeValue{
				JournalSlotAttribute:    num(slot.Unix()),
				JournalWriterAttribute:  &ddbtypes.AttributeValueMemberS{Value: writer},
				JournalEntriesAttribute: &ddbtypes.AttributeValueMemberB{Value: blob},
				JournalExpiresAttribute: num(now.Add(j.cfg.Retain).Unix()),
			},
			// A retry of a write that succeeded finds its own item: done.
			ConditionExpression:      aws.String("attribute_not_exists(#w)"),
			ExpressionAttributeNames: map[string]string{"#w": JournalWriterAttribute},
			ReturnConsumedCapacity:   ddbtypes.ReturnConsumedCapacityTotal,
		})
		var ccf *ddbtypes.ConditionalCheckFailedException
		switch {
		case errors.As(err, &ccf):
		case err != nil:
			return writes, wcu, fmt.Errorf("ledger: journal write: %w", err)
		case out.ConsumedCapacity != nil:
			wcu += aws.ToFloat64(out.ConsumedCapacity.CapacityUnits)
		}
		writes++
		entries = entries[n:]
	}
	return writes, wcu, nil
}

func num(n int64) ddbtypes.AttributeValue {
	return &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}
