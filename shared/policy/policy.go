// Package policy reads trailwarden's policy file: the trail every member
// account must have, with overrides per OU and account. It validates the file
// (every problem with its field path, before any AWS call), resolves the
// effective trail of one account, and renders it to the exact CloudTrail API
// inputs. It makes no AWS call.
//
// The file format and every rule are documented in docs/policy.md.
package policy

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"

	"gopkg.in/yaml.v3"

	"github.com/trailwarden/trailwarden/shared/deployment"
)

// Version is the only policy file version this package reads.
const Version = 1

// Mode says how trails are laid out.
type Mode string

const (
	// ModeAccountTrails gives every member account its own trail (the
	// default), converged by the enabler in the member account.
	ModeAccountTrails Mode = "account-trails"
	// ModeOrganizationTrail creates one organization trail in the management
	// account; CloudTrail applies it to every member.
	ModeOrganizationTrail Mode = "organization-trail"
)

// ReadWrite selects read events, write events, both or none.
type ReadWrite string

const (
	All   ReadWrite = "all"
	Read  ReadWrite = "read"
	Write ReadWrite = "write"
	None  ReadWrite = "none"
)

func (rw ReadWrite) valid() bool { return rw == All || rw == Read || rw == Write || rw == None }

// includesWrite reports whether rw logs write events.
func (rw ReadWrite) includesWrite() bool { return rw == All || rw == Write }

// TamperResponse says what the tamper guard does when a managed trail is
// changed or stopped outside trailwarden.
type TamperResponse string

const (
	TamperRepair    TamperResponse = "repair"
	TamperAlertOnly TamperResponse = "alert-only"
	TamperIgnore    TamperResponse = "ignore"
)

// KMSNone is the keyArn value that selects SSE-S3 instead of SSE-KMS.
const KMSNone = "none"

// Policy is a parsed policy file. Trail holds the base trail with defaults
// applied; Overrides keep their raw YAML so that merging can tell "unset"
// from "false".
type Policy struct {
	Version      int
	Organization Organization
	Mode         Mode
	Trail        Trail
	Overrides    []Override
	// Deployment is the CDK app's section with its defaults (nil when the
	// file has none): read and validated with the rest of the file.
	Deployment *deployment.Deployment

	trailNode *yaml.Node
	// root is the file's top-level mapping, for the positions of problems.
	root *yaml.Node
}

// Organization describes the AWS organization trailwarden serves.
type Organization struct {
	ID                string  `yaml:"id"`
	ManagementAccount string  `yaml:"managementAccount"`
	LoggingAccount    string  `yaml:"loggingAccount"`
	MemberRole        string  `yaml:"memberRole"`
	HomeRegion        string  `yaml:"homeRegion"`
	Exclude           Exclude `yaml:"exclude"`
	// ExistingOrganizationTrail declares that another organization trail
	// (for example AWS Control Tower's) already logs management events in
	// every member; logging them again is a paid second copy, so validation
	// warns wherever management events are on.
	ExistingOrganizationTrail bool `yaml:"existingOrganizationTrail"`
}

// Exclude lists accounts and OUs trailwarden leaves alone.
type Exclude struct {
	Accounts []string `yaml:"accounts"`
	OUs      []string `yaml:"ous"`
}

// Override changes trail fields for an OU or an account.
type Override struct {
	Match Match
	// Trail is the raw override fragment, deep-merged onto the base trail.
	Trail yaml.Node
}

// Match selects what an override applies to: exactly one of OU or Account.
type Match struct {
	OU      string `yaml:"ou"`
	Account string `yaml:"account"`
}

// Trail is one account's trail, with defaults applied.
type Trail struct {
	Name                string            `yaml:"name" json:"name"`
	S3                  S3Destination     `yaml:"s3" json:"s3"`
	KMS                 KMS               `yaml:"kms" json:"kms"`
	LogFileValidation   bool              `yaml:"logFileValidation" json:"logFileValidation"`
	SNS                 SNS               `yaml:"sns" json:"sns"`
	CloudWatchLogs      CloudWatchLogs    `yaml:"cloudWatchLogs" json:"cloudWatchLogs"`
	MultiRegion         bool              `yaml:"multiRegion" json:"multiRegion"`
	GlobalServiceEvents bool              `yaml:"globalServiceEvents" json:"globalServiceEvents"`
	Tags                map[string]string `yaml:"tags" json:"tags"`
	ManagementEvents    ManagementEvents  `yaml:"managementEvents" json:"managementEvents"`
	DataEvents          DataEvents        `yaml:"dataEvents" json:"dataEvents"`
	Insights            Insights          `yaml:"insights" json:"insights"`
	TamperResponse      TamperResponse    `yaml:"tamperResponse" json:"tamperResponse"`
	// IsOrganizationTrail is set by Effective from the policy's mode; it is
	// not a field of the file's trail section.
	IsOrganizationTrail bool `yaml:"-" json:"isOrganizationTrail"`
}

// S3Destination is the bucket CloudTrail delivers to.
type S3Destination struct {
	Bucket    string `yaml:"bucket" json:"bucket"`
	KeyPrefix string `yaml:"keyPrefix" json:"keyPrefix"`
}

// KMS selects the log file encryption: a KMS key ARN, or "none" for SSE-S3.
type KMS struct {
	KeyArn string `yaml:"keyArn" json:"keyArn"`
}

// SNS is the optional delivery notification topic.
type SNS struct {
	TopicArn string `yaml:"topicArn" json:"topicArn"`
}

// CloudWatchLogs sends events to a log group in the trail's own account.
type CloudWatchLogs struct {
	Enabled       bool   `yaml:"enabled" json:"enabled"`
	LogGroup      string `yaml:"logGroup" json:"logGroup"`
	RetentionDays int    `yaml:"retentionDays" json:"retentionDays"`
}

// ManagementEvents is the console's "Management events" choice.
type ManagementEvents struct {
	ReadWrite      ReadWrite `yaml:"readWrite" json:"readWrite"`
	ExcludeKMS     bool      `yaml:"excludeKms" json:"excludeKms"`
	ExcludeRDSData bool      `yaml:"excludeRdsData" json:"excludeRdsData"`
}

// DataEvents is the console's "Data events" choice.
type DataEvents struct {
	S3       S3DataEvents       `yaml:"s3" json:"s3"`
	Lambda   LambdaDataEvents   `yaml:"lambda" json:"lambda"`
	DynamoDB DynamoDBDataEvents `yaml:"dynamodb" json:"dynamodb"`
}

// S3DataEvents logs object-level events for all buckets or chosen buckets.
type S3DataEvents struct {
	AllBuckets ReadWrite  `yaml:"allBuckets" json:"allBuckets"`
	Buckets    []Resource `yaml:"buckets" json:"buckets"`
}

// LambdaDataEvents logs Invoke events for all functions or chosen functions.
type LambdaDataEvents struct {
	AllFunctions ReadWrite  `yaml:"allFunctions" json:"allFunctions"`
	Functions    []Resource `yaml:"functions" json:"functions"`
}

// DynamoDBDataEvents logs item-level events for all tables or chosen tables.
type DynamoDBDataEvents struct {
	AllTables ReadWrite  `yaml:"allTables" json:"allTables"`
	Tables    []Resource `yaml:"tables" json:"tables"`
}

// Resource is one chosen data-event resource. In YAML it is either a mapping
// {arn, readWrite} or just the ARN (readWrite all).
type Resource struct {
	ARN       string    `yaml:"arn" json:"arn"`
	ReadWrite ReadWrite `yaml:"readWrite" json:"readWrite"`
}

// UnmarshalYAML accepts a bare ARN or a mapping.
func (r *Resource) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*r = Resource{ARN: n.Value, ReadWrite: All}
		return nil
	}
	type plain Resource
	v := plain{ReadWrite: All}
	if err := n.Decode(&v); err != nil {
		return err
	}
	if v.ReadWrite == "" {
		v.ReadWrite = All
	}
	*r = Resource(v)
	return nil
}

// Insights is the console's "Insights events" choice.
type Insights struct {
	APICallRate  bool `yaml:"apiCallRate" json:"apiCallRate"`
	APIErrorRate bool `yaml:"apiErrorRate" json:"apiErrorRate"`
}

func (i Insights) any() bool { return i.APICallRate || i.APIErrorRate }

// Defaults of the trail section: the CloudTrail console's defaults.
const (
	DefaultMemberRole    = "TrailwardenMember"
	DefaultRetentionDays = 365
	// DefaultLogGroupPrefix + trail name is the log group when none is given.
	DefaultLogGroupPrefix = "/trailwarden/cloudtrail/"
)

// DefaultTrail returns the trail section's defaults.
func DefaultTrail() Trail {
	return Trail{
		LogFileValidation:   true,
		MultiRegion:         true,
		GlobalServiceEvents: true,
		CloudWatchLogs:      CloudWatchLogs{RetentionDays: DefaultRetentionDays},
		ManagementEvents:    ManagementEvents{ReadWrite: All},
		DataEvents: DataEvents{
			S3:       S3DataEvents{AllBuckets: None},
			Lambda:   LambdaDataEvents{AllFunctions: None},
			DynamoDB: DynamoDBDataEvents{AllTables: None},
		},
		TamperResponse: TamperRepair,
	}
}

// document is the file's top level as decoded.
type document struct {
	Version      int             `yaml:"version"`
	Organization Organization    `yaml:"organization"`
	Mode         Mode            `yaml:"mode"`
	Trail        yaml.Node       `yaml:"trail"`
	Overrides    []overrideEntry `yaml:"overrides"`
	Deployment   yaml.Node       `yaml:"deployment"`
}

type overrideEntry struct {
	Match Match     `yaml:"match"`
	Trail yaml.Node `yaml:"trail"`
}

// ErrExcluded is returned by Effective for an account the policy excludes.
var ErrExcluded = errors.New("account is excluded by the policy")

// TrailNames lists the trail names the policy can give an account: the
// base trail's first, then each other name an override sets, once each.
func (p *Policy) TrailNames() []string {
	names := []string{p.Trail.Name}
	for _, o := range p.Overrides {
		n := &o.Trail
		for i := 0; n.Kind == yaml.MappingNode && i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Value == "name" && v.Kind == yaml.ScalarNode && v.Value != "" && !slices.Contains(names, v.Value) {
				names = append(names, v.Value)
			}
		}
	}
	return names
}

// Parse reads a policy file's structure: YAML syntax, unknown keys (typos) and
// value types, each reported with its field path and position, as Problems.
// It applies defaults. The rules on values are checked by Validate; Check
// does both and reports every problem at once.
func Parse(data []byte) (*Policy, error) {
	p, shape, err := read(data)
	if err != nil {
		return nil, err
	}
	if len(shape.probs) > 0 {
		return nil, shape.probs
	}
	return p, nil
}

// read parses the file as far as it can: what the shape check refuses is
// reported and taken out, and the rest is decoded, so that Validate can
// still check it. Only a file that is not one YAML mapping is an error.
func read(data []byte) (*Policy, *shapeCheck, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil, Problems{{Message: "the policy file is empty"}}
		}
		// yaml.v3's own words: the line it names is where the construct it
		// was reading began, sometimes one line early, so it is not taken
		// as the problem's position.
		return nil, nil, Problems{{Message: "not valid YAML: " + err.Error()}}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, nil, Problems{{Line: extra.Line, Column: extra.Column, Message: "the policy file must hold exactly one YAML document"}}
	}
	doc := &root
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		doc = doc.Content[0]
	}
	shape := newShapeCheck()
	shape.walk(doc, typeOf[schema](), "", 0)
	if shape.null[deref(doc)] {
		return nil, nil, shape.probs
	}
	shape.clean(doc, map[*yaml.Node]bool{})
	var d document
	if err := doc.Decode(&d); err != nil {
		return nil, nil, Problems{{Message: err.Error()}}
	}
	p := &Policy{Version: d.Version, Organization: d.Organization, Mode: d.Mode, root: doc}
	if p.Mode == "" {
		p.Mode = ModeAccountTrails
	}
	if p.Organization.MemberRole == "" {
		p.Organization.MemberRole = DefaultMemberRole
	}
	p.trailNode = pruneNulls(&d.Trail)
	for _, o := range d.Overrides {
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		if !isNull(deref(&o.Trail)) {
			n = cloneKeepNulls(&o.Trail)
		}
		p.Overrides = append(p.Overrides, Override{Match: o.Match, Trail: *n})
	}
	if !isNull(deref(&d.Deployment)) {
		var dep deployment.Deployment
		if err := d.Deployment.Decode(&dep); err != nil {
			return nil, nil, Problems{{Path: "deployment", Message: err.Error()}}
		}
		dep.ApplyDefaults()
		p.Deployment = &dep
	}
	t, err := decodeTrail(p.trailNode)
	if err != nil {
		return nil, nil, Problems{{Path: "trail", Message: err.Error()}}
	}
	p.Trail = *t
	p.Trail.IsOrganizationTrail = p.Mode == ModeOrganizationTrail
	return p, shape, nil
}

// decodeTrail decodes a (merged) trail node over the defaults.
func decodeTrail(n *yaml.Node) (*Trail, error) {
	t := DefaultTrail()
	if n != nil && n.Kind != 0 {
		if err := n.Decode(&t); err != nil {
			return nil, err
		}
	}
	if t.CloudWatchLogs.LogGroup == "" && t.Name != "" {
		t.CloudWatchLogs.LogGroup = DefaultLogGroupPrefix + t.Name
	}
	return &t, nil
}

// Excluded reports whether the policy leaves account alone, directly or
// through an OU on its path.
func (p *Policy) Excluded(account string, ouPath []string) bool {
	for _, a := range p.Organization.Exclude.Accounts {
		if a == account {
			return true
		}
	}
	for _, ou := range p.Organization.Exclude.OUs {
		for _, x := range ouPath {
			if ou == x {
				return true
			}
		}
	}
	return false
}

// Effective resolves the trail of one account: the base trail, then the OU
// overrides from the root down ouPath (so the nearest ancestor OU is applied
// last among OUs), then the account's overrides; overrides for the same target
// apply in file order. ouPath lists the account's OUs from the root's child
// down to the account's parent (a root id "r-…" in it is ignored). The result
// is validated; invalid combinations return Problems. An excluded account
// returns ErrExcluded. In organization-trail mode the base trail is returned.
func (p *Policy) Effective(account string, ouPath []string) (*Trail, error) {
	if p == nil || p.trailNode == nil {
		return nil, errors.New("policy not parsed")
	}
	if p.Excluded(account, ouPath) {
		return nil, fmt.Errorf("account %s: %w", account, ErrExcluded)
	}
	merged := cloneNode(p.trailNode)
	if p.Mode != ModeOrganizationTrail {
		for _, ou := range ouPath {
			for i := range p.Overrides {
				if p.Overrides[i].Match.OU != "" && p.Overrides[i].Match.OU == ou {
					merged = mergeNodes(merged, &p.Overrides[i].Trail)
				}
			}
		}
		for i := range p.Overrides {
			if p.Overrides[i].Match.Account != "" && p.Overrides[i].Match.Account == account {
				merged = mergeNodes(merged, &p.Overrides[i].Trail)
			}
		}
	}
	t, err := decodeTrail(merged)
	if err != nil {
		return nil, Problems{{Path: "trail", Message: err.Error()}}
	}
	t.IsOrganizationTrail = p.Mode == ModeOrganizationTrail
	var v validator
	v.trail(t, p.env(), "trail", merged)
	if len(v.problems) > 0 {
		return nil, fmt.Errorf("effective trail of account %s: %w", account, v.problems)
	}
	return t, nil
}

// Hash is a stable hash of the effective trail ("sha256:<hex>"), recorded with
// each account to tell which policy it got. Equal trails hash equally
// whatever the order of the policy file's keys.
func (t *Trail) Hash() string {
	// Marshal cannot fail: Trail holds only strings, bools, ints, maps and slices.
	b, _ := json.Marshal(t)
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}
