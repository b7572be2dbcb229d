package ledger

// # The arrival journal
//
// The per-account items are the ledger's long memory; the journal is its
// short one. Every verifier invocation that learnt a newer log or digest
// time for any account × Region appends ONE journal item before it returns:
// the newest times it saw, for every pair, packed in a compact binary
// attribute. A batch of 100 notifications is about 100 entries of ~10 bytes:
// one write unit, whatever the number of accounts in it. The per-account
// items then need a write only every ItemInterval (the counts, the newest
// key and the times, coalesced), instead of whenever a Region's time moves.
//
// Readers (the watchdog, `trailwarden status`) read the journal items
// written in the last Horizon and raise the items' times with them: the
// ledger they see is never behind what the verifier has processed, and the
// verifier's in-memory coalescing can lose nothing the watchdog needs when
// an instance dies (its times are already in the journal, which outlives
// the heartbeat threshold).
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
	"sort"
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

// DefaultItemInterval is how long an account's counts, newest key and
// times may wait in a verifier instance before its item is written.
const DefaultItemInterval = time.Hour

// DefaultLagAllowance is how far the ledger as read may lag a delivery: the
// queueing and batching before a verifier invocation journals it. The
// watchdog adds it to every threshold (deployment.ledger.coalesceWindow,
// the setting's former name, changes it).
const DefaultLagAllowance = 5 * time.Minute

// MinJournalHorizon is the shortest journal a reader looks at: the
// watchdog's heartbeat threshold (one hour of digests plus grace) with a
// margin, so that a quiet Region's digest recorded only in the journal
// (its instance died before the item write) is seen until the next digest.
const MinJournalHorizon = 75 * time.Minute

// JournalHorizon is how far back readers look for an item interval: the
// interval plus 15 minutes (an instance writes an item at the first
// invocation that ends after the interval), and never less than
// MinJournalHorizon.
func JournalHorizon(itemInterval time.Duration) time.Duration {
	if itemInterval <= 0 {
		itemInterval = DefaultItemInterval
	}
	return max(itemInterval+15*time.Minute, MinJournalHorizon)
}

// JournalEntry is one account × Region's newest time of one kind, as one
// verifier invocation saw it.
type JournalEntry struct {
	Account string
	Region  string
	Kind    ArrivalKind
	Time    time.Time
}

// journalVersion is the first byte of an encoded journal.
const journalVersion = 1

// Limits of the encoding, checked on both sides.
const (
	maxJournalRegions     = 256
	maxJournalRegionBytes = 32
	// maxJournalEntries keeps one item far below DynamoDB's 400 KB: an
	// entry is at most 6+2+5 bytes.
	maxJournalEntries = 20000
	maxAccountNumber  = 999_999_999_999
)

// EncodeJournal packs entries (at most 20,000, accounts of 12 digits,
// Regions of 1–32 bytes, times at or after 1970) into the E attribute:
//
//	version (1 byte) · uvarint base time · uvarint Region count · Regions
//	(uvarint length + bytes) · uvarint entry count · entries: uvarint
//	account number · uvarint Region index · uvarint ((time − base) << 1 | kind)
//
// where kind is 0 for a log file and 1 for a digest, and times are epoch
// seconds.
func EncodeJournal(entries []JournalEntry) ([]byte, error) {
	if len(entries) > maxJournalEntries {
		return nil, fmt.Errorf("journal: %d entries (at most %d)", len(entries), maxJournalEntries)
	}
	regionIndex := map[string]int{}
	var regions []string
	base := int64(-1)
	for _, e := range entries {
		if !awsid.IsAccountID(e.Account) {
			return nil, fmt.Errorf("journal: account %q is not 12 digits", e.Account)
		}
		if e.Region == "" || len(e.Region) > maxJournalRegionBytes {
			return nil, fmt.Errorf("journal: Region %q", e.Region)
		}
		if e.Kind != ArrivalLog && e.Kind != ArrivalDigest {
			return nil, fmt.Errorf("journal: kind %d", e.Kind)
		}
		if e.Time.Unix() < 0 {
			return nil, fmt.Errorf("journal: time %s before 1970", e.Time)
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
	if base < 0 {
		base = 0
	}
	buf := make([]byte, 0, 16+len(regions)*12+len(entries)*10)
	buf = append(buf, journalVersion)
	buf = binary.AppendUvarint(buf, uint64(base))
	buf = binary.AppendUvarint(buf, uint64(len(regions)))
	for _, r := range regions {
		buf = binary.AppendUvarint(buf, uint64(len(r)))
		buf = append(buf, r...)
	}
	buf = binary.AppendUvarint(buf, uint64(len(entries)))
	for _, e := range entries {
		acct, _ := strconv.ParseUint(e.Account, 10, 64)
		buf = binary.AppendUvarint(buf, acct)
		buf = binary.AppendUvarint(buf, uint64(regionIndex[e.Region]))
		kind := uint64(0)
		if e.Kind == ArrivalDigest {
			kind = 1
		}
		buf = binary.AppendUvarint(buf, uint64(e.Time.Unix()-base)<<1|kind)
	}
	return buf, nil
}

// ErrJournalCorrupt is wrapped by every DecodeJournal error.
var ErrJournalCorrupt = errors.New("journal: corrupt entries")

// DecodeJournal reads what EncodeJournal wrote. It reads untrusted bytes
// strictly: a wrong version, a bound exceeded, an index out of range, a
// truncated or overlong value, or trailing bytes is an error wrapping
// ErrJournalCorrupt, never a panic.
func DecodeJournal(b []byte) ([]JournalEntry, error) {
	var out []JournalEntry
	var names []string
	_, err := decodeJournal(b, func(regions []string, n int) {
		names = regions
		out = make([]JournalEntry, 0, n)
	}, func(account uint64, region int, kind ArrivalKind, t int64) {
		out = append(out, JournalEntry{Account: accountID(account), Region: names[region], Kind: kind, Time: time.Unix(t, 0).UTC()})
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

// decodeJournal validates b and calls each for every entry (after sized,
// with the item's Regions and entry count; each gets an index into them);
// see DecodeJournal.
func decodeJournal(b []byte, sized func(regions []string, n int), each func(account uint64, region int, kind ArrivalKind, t int64)) (int, error) {
	fail := func(format string, args ...any) (int, error) {
		return 0, fmt.Errorf("%w: %s", ErrJournalCorrupt, fmt.Sprintf(format, args...))
	}
	if len(b) == 0 || b[0] != journalVersion {
		return fail("unknown version")
	}
	p := 1
	next := func() (uint64, bool) {
		v, n := binary.Uvarint(b[p:])
		if n <= 0 {
			return 0, false
		}
		p += n
		return v, true
	}
	base, ok := next()
	if !ok || base > 1<<40 {
		return fail("base time")
	}
	nr, ok := next()
	if !ok || nr > maxJournalRegions {
		return fail("Region count")
	}
	regions := make([]string, nr)
	for i := range regions {
		l, ok := next()
		if !ok || l == 0 || l > maxJournalRegionBytes || uint64(len(b)-p) < l {
			return fail("Region %d", i)
		}
		regions[i] = string(b[p : p+int(l)])
		p += int(l)
	}
	ne, ok := next()
	if !ok || ne > maxJournalEntries || ne > uint64(len(b)-p)/3 {
		return fail("entry count")
	}
	sized(regions, int(ne))
	for i := 0; i < int(ne); i++ {
		acct, ok1 := next()
		ri, ok2 := next()
		tk, ok3 := next()
		if !ok1 || !ok2 || !ok3 {
			return fail("entry %d truncated", i)
		}
		if acct > maxAccountNumber || ri >= nr || tk>>1 > 1<<40 {
			return fail("entry %d out of range", i)
		}
		kind := ArrivalLog
		if tk&1 == 1 {
			kind = ArrivalDigest
		}
		each(acct, int(ri), kind, int64(base+tk>>1))
	}
	if p != len(b) {
		return fail("%d trailing bytes", len(b)-p)
	}
	return int(ne), nil
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

// journalState is a Writer's journal buffer; guarded by Writer.mu.
type journalState struct {
	cfg Journal
	seq uint64
	// buf holds the newest time (epoch seconds) per account × Region ×
	// kind not yet written to the journal.
	buf map[journalKey]uint32
}

type journalKey struct {
	account uint64
	region  uint8
	kind    ArrivalKind
}

// buffered is one entry taken from the buffer.
type buffered struct {
	key journalKey
	t   uint32
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
	return &journalState{cfg: cfg, buf: map[journalKey]uint32{}}
}

// add keeps the newest time of a pair.
func (j *journalState) add(k journalKey, t uint32) {
	if old, ok := j.buf[k]; !ok || t > old {
		j.buf[k] = t
	}
}

// take empties the buffer, sorted by account, Region id and kind.
func (j *journalState) take() []buffered {
	if len(j.buf) == 0 {
		return nil
	}
	out := make([]buffered, 0, len(j.buf))
	for k, t := range j.buf {
		out = append(out, buffered{key: k, t: t})
	}
	// A Go map keeps its capacity, and clearing or iterating it costs that
	// capacity: after a large buffer (a burst, a cold start) start afresh,
	// so that later invocations pay for what they buffered.
	if len(out) > 1024 {
		j.buf = map[journalKey]uint32{}
	} else {
		clear(j.buf)
	}
	sort.Slice(out, func(a, b int) bool {
		x, y := out[a].key, out[b].key
		if x.account != y.account {
			return x.account < y.account
		}
		if x.region != y.region {
			return x.region < y.region
		}
		return x.kind < y.kind
	})
	return out
}

// entries renders taken entries with their account ids and Region names.
func (j *journalState) entries(b []buffered, regions []string) []JournalEntry {
	if len(b) == 0 {
		return nil
	}
	out := make([]JournalEntry, len(b))
	for i, e := range b {
		out[i] = JournalEntry{Account: accountID(e.key.account), Region: regions[e.key.region], Kind: e.key.kind, Time: time.Unix(int64(e.t), 0).UTC()}
	}
	return out
}

// put writes entries as one journal item per maxJournalEntries, returning
// the write units DynamoDB reported.
func (j *journalState) put(ctx context.Context, entries []JournalEntry, now time.Time, seq uint64) (float64, error) {
	var wcu float64
	for part := 0; len(entries) > 0; part++ {
		n := min(len(entries), maxJournalEntries)
		blob, err := EncodeJournal(entries[:n])
		if err != nil {
			return wcu, err
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
			return wcu, fmt.Errorf("ledger: journal write: %w", err)
		case out.ConsumedCapacity != nil:
			wcu += aws.ToFloat64(out.ConsumedCapacity.CapacityUnits)
		}
		entries = entries[n:]
	}
	return wcu, nil
}
