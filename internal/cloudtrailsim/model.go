package cloudtrailsim

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// CommercialRegions are the 17 commercial Regions enabled by default in
// every account (opt-in Regions excluded).
var CommercialRegions = []string{
	"us-east-1", "us-east-2", "us-west-1", "us-west-2",
	"ca-central-1", "sa-east-1",
	"eu-central-1", "eu-west-1", "eu-west-2", "eu-west-3", "eu-north-1",
	"ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
	"ap-southeast-1", "ap-southeast-2",
}

// z90 is the standard normal quantile at 0.90.
const z90 = 1.2815515655446004

// Model is a deterministic traffic model of an organization's CloudTrail
// deliveries to one bucket and topic, for benchmarks. Every account has one
// multi-Region trail: a digest every hour in every Region, and log files in
// ActiveRegionsPerAccount Regions only. Each active account × Region has a
// steady hourly rate of log files drawn once from a log-normal distribution
// (median LogFilesMedian, 90th percentile LogFilesP90), so busy accounts stay
// busy; each hour delivers that rate, rounded up or down at random to keep
// the mean. Files go out in notifications of one key, or with probability
// MultiKeyShare of MultiKeyMin–MultiKeyMax keys, at uniform random times in
// the hour. Build one with NewModel and change fields as needed.
type Model struct {
	Accounts                int
	Regions                 []string
	ActiveRegionsPerAccount int
	LogFilesMedian          float64
	LogFilesP90             float64
	DigestsPerHour          int
	MultiKeyShare           float64
	MultiKeyMin             int
	MultiKeyMax             int
	Hours                   int
	Start                   time.Time // first hour (truncated to the hour)
	Seed                    uint64

	// Destination: the central bucket and topic, and the trail every
	// account has.
	Bucket        string
	Prefix        string
	OrgID         string // "" for per-account trails
	TopicARN      string
	TrailName     string
	HomeRegion    string
	BucketAccount string
	BucketRegion  string
	// AccountID names account i (0-based); nil for DefaultAccountID.
	AccountID func(i int) string
}

// NewModel returns the benchmark model: 17 Regions, 3 active per account,
// log files per hour log-normal with median 12 and 90th percentile 60, one
// digest per account × Region × hour, 10% of notifications with 2–5 keys,
// 24 hours from 2026-01-05T00:00Z.
func NewModel(accounts int, seed uint64) Model {
	return Model{
		Accounts:                accounts,
		Regions:                 CommercialRegions,
		ActiveRegionsPerAccount: 3,
		LogFilesMedian:          12,
		LogFilesP90:             60,
		DigestsPerHour:          1,
		MultiKeyShare:           0.10,
		MultiKeyMin:             2,
		MultiKeyMax:             5,
		Hours:                   24,
		Start:                   time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC),
		Seed:                    seed,
		Bucket:                  "org-cloudtrail-logs",
		TopicARN:                "arn:aws:sns:us-east-1:222222222222:cloudtrail-deliveries",
		TrailName:               "trailwarden",
		HomeRegion:              "us-east-1",
		BucketAccount:           "222222222222",
		BucketRegion:            "us-east-1",
	}
}

// DefaultAccountID is a 12-digit account id for index i.
func DefaultAccountID(i int) string { return fmt.Sprintf("%012d", 300000000000+int64(i)) }

// Sigma is the log-normal σ of log files per hour: ln(p90/median)/z₀.₉₀.
func (m Model) Sigma() float64 { return math.Log(m.LogFilesP90/m.LogFilesMedian) / z90 }

// MeanLogFilesPerHour is the expected hourly files of an active account ×
// Region: exp(μ + σ²/2).
func (m Model) MeanLogFilesPerHour() float64 {
	s := m.Sigma()
	return m.LogFilesMedian * math.Exp(s*s/2)
}

// Validate reports every problem with the model at once.
func (m Model) Validate() error {
	var p []string
	if m.Accounts < 1 {
		p = append(p, "Accounts must be at least 1")
	}
	if len(m.Regions) == 0 || len(m.Regions) > 255 {
		p = append(p, "Regions must list 1 to 255 Regions")
	}
	if m.ActiveRegionsPerAccount < 0 || m.ActiveRegionsPerAccount > len(m.Regions) {
		p = append(p, "ActiveRegionsPerAccount must be between 0 and len(Regions)")
	}
	if !(m.LogFilesMedian > 0) || !(m.LogFilesP90 >= m.LogFilesMedian) {
		p = append(p, "need 0 < LogFilesMedian <= LogFilesP90")
	}
	if m.DigestsPerHour < 0 || m.DigestsPerHour > 60 {
		p = append(p, "DigestsPerHour must be between 0 and 60")
	}
	if m.MultiKeyShare < 0 || m.MultiKeyShare > 1 {
		p = append(p, "MultiKeyShare must be between 0 and 1")
	}
	if m.MultiKeyMin < 2 || m.MultiKeyMax < m.MultiKeyMin || m.MultiKeyMax > 255 {
		p = append(p, "need 2 <= MultiKeyMin <= MultiKeyMax <= 255")
	}
	if m.Hours < 1 {
		p = append(p, "Hours must be at least 1")
	}
	if m.Bucket == "" || m.TopicARN == "" || m.TrailName == "" || m.HomeRegion == "" {
		p = append(p, "Bucket, TopicARN, TrailName and HomeRegion are required")
	}
	if len(p) > 0 {
		return errors.New("cloudtrailsim: model: " + strings.Join(p, "; "))
	}
	return nil
}

// Counts are the exact totals of a model run.
type Counts struct {
	LogFiles              int64 // log file objects
	Notifications         int64 // SNS notifications (SQS messages) for log files
	MultiKeyNotifications int64 // notifications listing more than one key
	Digests               int64 // digest objects (and their S3 events)
	Messages              int64 // all SQS messages: Notifications + Digests
	ActiveAccountRegions  int64 // account × Region pairs that deliver log files
}

// MessageKind tells what a Message carries.
type MessageKind int

const (
	// LogNotification is an SNS envelope of a CloudTrail notification.
	LogNotification MessageKind = iota + 1
	// DigestObjectCreated is an EventBridge S3 Object Created event for a digest.
	DigestObjectCreated
)

func (k MessageKind) String() string {
	switch k {
	case LogNotification:
		return "log-notification"
	case DigestObjectCreated:
		return "digest-object-created"
	}
	return fmt.Sprintf("MessageKind(%d)", int(k))
}

// Message is one SQS message body of the stream, with what it announces.
type Message struct {
	Kind    MessageKind
	At      time.Time
	Account string
	Region  string
	Keys    []string // log file keys, or the digest key
	Body    []byte   // the SQS message body
}

// cell is one account × Region × hour.
type cell struct{ account, region, hour int }

// activeRegions returns the indexes of account a's active Regions.
func (m Model) activeRegions(a int) []int {
	r := rand.New(rand.NewPCG(m.Seed, mix(uint64(a), 0, 0, 1)))
	return r.Perm(len(m.Regions))[:m.ActiveRegionsPerAccount]
}

// rate is the steady log files per hour of account a in Region reg.
func (m Model) rate(a, reg int) float64 {
	r := rand.New(rand.NewPCG(m.Seed, mix(uint64(a), uint64(reg), 0, 2)))
	return math.Exp(math.Log(m.LogFilesMedian) + m.Sigma()*r.NormFloat64())
}

// notification is one notification of a cell: offset in the hour and keys.
type notification struct {
	offset time.Duration
	keys   int
}

// cellNotifications returns the cell's notifications in time order and its
// file count.
func (m Model) cellNotifications(c cell, rate float64) ([]notification, int) {
	r := rand.New(rand.NewPCG(m.Seed, mix(uint64(c.account), uint64(c.region), uint64(c.hour), 3)))
	files := int(rate)
	if r.Float64() < rate-float64(files) {
		files++
	}
	var out []notification
	for left := files; left > 0; {
		k := 1
		if left > 1 && r.Float64() < m.MultiKeyShare {
			k = min(m.MultiKeyMin+r.IntN(m.MultiKeyMax-m.MultiKeyMin+1), left)
		}
		out = append(out, notification{offset: time.Duration(r.Int64N(int64(time.Hour/time.Millisecond))) * time.Millisecond, keys: k})
		left -= k
	}
	slices.SortFunc(out, func(a, b notification) int { return cmp.Compare(a.offset, b.offset) })
	return out, files
}

// digestOffsets are the digest times in the hour of account a in Region
// reg: fixed per chain, as CloudTrail's are.
func (m Model) digestOffsets(a, reg int) []time.Duration {
	r := rand.New(rand.NewPCG(m.Seed, mix(uint64(a), uint64(reg), 0, 4)))
	out := make([]time.Duration, m.DigestsPerHour)
	slot := time.Hour / time.Duration(max(m.DigestsPerHour, 1))
	for i := range out {
		out[i] = time.Duration(i)*slot + time.Duration(r.Int64N(int64(slot/time.Second)))*time.Second
	}
	return out
}

// Counts computes the exact totals without building any message.
func (m Model) Counts() (Counts, error) {
	if err := m.Validate(); err != nil {
		return Counts{}, err
	}
	var c Counts
	c.Digests = int64(m.Accounts) * int64(len(m.Regions)) * int64(m.Hours) * int64(m.DigestsPerHour)
	for a := range m.Accounts {
		for _, reg := range m.activeRegions(a) {
			c.ActiveAccountRegions++
			rate := m.rate(a, reg)
			for h := range m.Hours {
				ns, files := m.cellNotifications(cell{a, reg, h}, rate)
				c.LogFiles += int64(files)
				c.Notifications += int64(len(ns))
				for _, n := range ns {
					if n.keys > 1 {
						c.MultiKeyNotifications++
					}
				}
			}
		}
	}
	c.Messages = c.Notifications + c.Digests
	return c, nil
}

// HourlyLogFiles calls fn with the file count of every active account ×
// Region × hour (for distribution checks).
func (m Model) HourlyLogFiles(fn func(account, region string, hour, files int)) error {
	if err := m.Validate(); err != nil {
		return err
	}
	for a := range m.Accounts {
		for _, reg := range m.activeRegions(a) {
			rate := m.rate(a, reg)
			for h := range m.Hours {
				_, files := m.cellNotifications(cell{a, reg, h}, rate)
				fn(m.accountID(a), m.Regions[reg], h, files)
			}
		}
	}
	return nil
}

func (m Model) accountID(i int) string {
	if m.AccountID != nil {
		return m.AccountID(i)
	}
	return DefaultAccountID(i)
}

// event is one message of an hour before its body is built.
type event struct {
	offset  time.Duration
	account uint32
	region  uint8
	kind    MessageKind
	keys    uint16 // keys of a notification; files of the hour for a digest
	seq     uint32 // notification index in its cell, or digest index
}

// Run streams the model's messages to fn in time order (ties broken by
// account, Region, kind and sequence), one hour in memory at a time. It
// stops at fn's first error and returns it.
func (m Model) Run(fn func(Message) error) error {
	if err := m.Validate(); err != nil {
		return err
	}
	start := m.Start.UTC().Truncate(time.Hour)
	active := make([][]int, m.Accounts)
	rates := make([][]float64, m.Accounts)
	for a := range m.Accounts {
		active[a] = m.activeRegions(a)
		for _, reg := range active[a] {
			rates[a] = append(rates[a], m.rate(a, reg))
		}
	}
	var evs []event
	for h := range m.Hours {
		evs = evs[:0]
		hourStart := start.Add(time.Duration(h) * time.Hour)
		for a := range m.Accounts {
			files := make(map[int]int, len(active[a]))
			for i, reg := range active[a] {
				ns, n := m.cellNotifications(cell{a, reg, h}, rates[a][i])
				files[reg] = n
				for j, nt := range ns {
					evs = append(evs, event{offset: nt.offset, account: uint32(a), region: uint8(reg),
						kind: LogNotification, keys: uint16(nt.keys), seq: uint32(j)})
				}
			}
			for reg := range m.Regions {
				for j, off := range m.digestOffsets(a, reg) {
					evs = append(evs, event{offset: off, account: uint32(a), region: uint8(reg),
						kind: DigestObjectCreated, keys: uint16(min(files[reg], math.MaxUint16)), seq: uint32(j)})
				}
			}
		}
		slices.SortFunc(evs, func(x, y event) int {
			return cmp.Or(cmp.Compare(x.offset, y.offset), cmp.Compare(x.account, y.account),
				cmp.Compare(x.region, y.region), cmp.Compare(x.kind, y.kind), cmp.Compare(x.seq, y.seq))
		})
		for _, e := range evs {
			if err := fn(m.message(e, h, hourStart)); err != nil {
				return err
			}
		}
	}
	return nil
}

// message builds the body of e; its random parts come from a generator
// seeded by the event's identity, so they do not depend on the order of
// generation.
func (m Model) message(e event, hour int, hourStart time.Time) Message {
	r := rand.New(rand.NewPCG(m.Seed, mix(uint64(e.account), uint64(e.region), uint64(hour), 5+uint64(e.kind)<<8+uint64(e.seq)<<16)))
	at := hourStart.Add(e.offset)
	account, region := m.accountID(int(e.account)), m.Regions[e.region]
	p := KeyParts{Prefix: m.Prefix, OrgID: m.OrgID, PathAccount: account, Region: region, At: at,
		TrailName: m.TrailName, HomeRegion: m.HomeRegion}
	msg := Message{Kind: e.kind, At: at, Account: account, Region: region}
	switch e.kind {
	case LogNotification:
		for range e.keys {
			p.Unique = uniqueString(r)
			msg.Keys = append(msg.Keys, LogFileKey(p))
		}
		inner, _ := json.Marshal(Notification{S3Bucket: m.Bucket, S3ObjectKey: msg.Keys}) // strings only: cannot fail
		// SNS publishes a moment after the last object is written.
		msg.Body = newSNSEnvelope(r, m.TopicARN, string(inner), at.Add(time.Duration(50+r.IntN(400))*time.Millisecond)).Bytes()
	case DigestObjectCreated:
		p.At = at.Truncate(time.Second)
		key := DigestKey(p)
		msg.Keys = []string{key}
		// Size of a gzipped digest: about 700 bytes plus 260 per log file.
		size := int64(700 + 260*int(e.keys) + r.IntN(60))
		msg.Body = newObjectCreated(r, m.BucketAccount, m.BucketRegion, m.Bucket, key, size, p.At).Bytes()
	}
	return msg
}

// mix folds identifiers into one 64-bit stream selector (splitmix64 steps).
func mix(a, b, c, d uint64) uint64 {
	x := a*0x9e3779b97f4a7c15 ^ b*0xbf58476d1ce4e5b9 ^ c*0x94d049bb133111eb ^ d*0xd6e8feb86659fd93
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
