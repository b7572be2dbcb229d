package emulator

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
)

// CreateOrganization creates an organization with all features, managed by
// mgmt's account, and returns its id (o-…) and its root's id (r-…).
func CreateOrganization(ctx context.Context, mgmt aws.Config) (orgID, rootID string, err error) {
	client := organizations.NewFromConfig(mgmt)
	out, err := client.CreateOrganization(ctx, &organizations.CreateOrganizationInput{
		FeatureSet: orgtypes.OrganizationFeatureSetAll,
	})
	if err != nil {
		return "", "", fmt.Errorf("emulator: create organization: %w", err)
	}
	if out.Organization == nil {
		return "", "", fmt.Errorf("emulator: create organization: answer without organization")
	}
	roots, err := client.ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil {
		return "", "", fmt.Errorf("emulator: list roots: %w", err)
	}
	if len(roots.Roots) != 1 {
		return "", "", fmt.Errorf("emulator: list roots: %d roots, want 1", len(roots.Roots))
	}
	return aws.ToString(out.Organization.Id), aws.ToString(roots.Roots[0].Id), nil
}

// CreateOU creates an organizational unit under parentID (a root or OU id)
// and returns its id (ou-…).
func CreateOU(ctx context.Context, mgmt aws.Config, parentID, name string) (string, error) {
	out, err := organizations.NewFromConfig(mgmt).CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{
		ParentId: aws.String(parentID),
		Name:     aws.String(name),
	})
	if err != nil {
		return "", fmt.Errorf("emulator: create OU %q: %w", name, err)
	}
	if out.OrganizationalUnit == nil {
		return "", fmt.Errorf("emulator: create OU %q: answer without OU", name)
	}
	return aws.ToString(out.OrganizationalUnit.Id), nil
}

// AccountRequest describes a member account to create.
type AccountRequest struct {
	Name string
	// Email defaults to <name>@example.com (a reserved domain).
	Email string
	// RoleName defaults to AccessRoleName; moto creates it in the member.
	RoleName string
	// ParentID, if set and not the account's current parent (the root), is
	// where the account is moved after creation.
	ParentID string
}

// CreateAccount creates a member account through Organizations
// CreateAccount, waits for DescribeCreateAccountStatus to report SUCCEEDED
// (moto does at once), moves it to req.ParentID if given, and returns the
// new account's id.
func CreateAccount(ctx context.Context, mgmt aws.Config, req AccountRequest) (string, error) {
	if req.Name == "" {
		return "", fmt.Errorf("emulator: create account: empty name")
	}
	email := req.Email
	if email == "" {
		email = strings.ToLower(strings.ReplaceAll(req.Name, " ", "-")) + "@example.com"
	}
	in := &organizations.CreateAccountInput{
		AccountName: aws.String(req.Name),
		Email:       aws.String(email),
	}
	if req.RoleName != "" {
		in.RoleName = aws.String(req.RoleName)
	}
	client := organizations.NewFromConfig(mgmt)
	out, err := client.CreateAccount(ctx, in)
	if err != nil {
		return "", fmt.Errorf("emulator: create account %q: %w", req.Name, err)
	}
	if out.CreateAccountStatus == nil || out.CreateAccountStatus.Id == nil {
		return "", fmt.Errorf("emulator: create account %q: answer without a request id", req.Name)
	}
	id, err := waitCreateAccount(ctx, client, aws.ToString(out.CreateAccountStatus.Id))
	if err != nil {
		return "", fmt.Errorf("emulator: create account %q: %w", req.Name, err)
	}
	if req.ParentID == "" {
		return id, nil
	}
	parents, err := client.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String(id)})
	if err != nil {
		return "", fmt.Errorf("emulator: list parents of %s: %w", id, err)
	}
	if len(parents.Parents) != 1 {
		return "", fmt.Errorf("emulator: list parents of %s: %d parents, want 1", id, len(parents.Parents))
	}
	from := aws.ToString(parents.Parents[0].Id)
	if from == req.ParentID {
		return id, nil
	}
	if _, err := client.MoveAccount(ctx, &organizations.MoveAccountInput{
		AccountId:           aws.String(id),
		SourceParentId:      aws.String(from),
		DestinationParentId: aws.String(req.ParentID),
	}); err != nil {
		return "", fmt.Errorf("emulator: move account %s to %s: %w", id, req.ParentID, err)
	}
	return id, nil
}

func waitCreateAccount(ctx context.Context, client *organizations.Client, requestID string) (string, error) {
	for {
		out, err := client.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{
			CreateAccountRequestId: aws.String(requestID),
		})
		if err != nil {
			return "", fmt.Errorf("describe create account status %s: %w", requestID, err)
		}
		st := out.CreateAccountStatus
		if st == nil {
			return "", fmt.Errorf("describe create account status %s: answer without status", requestID)
		}
		switch st.State {
		case orgtypes.CreateAccountStateSucceeded:
			if aws.ToString(st.AccountId) == "" {
				return "", fmt.Errorf("request %s succeeded without an account id", requestID)
			}
			return aws.ToString(st.AccountId), nil
		case orgtypes.CreateAccountStateFailed:
			return "", fmt.Errorf("request %s failed: %s", requestID, st.FailureReason)
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("request %s still %s: %w", requestID, st.State, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Account is a member account of a World.
type Account struct {
	ID   string
	Name string
	// Config acts in the account through its AccessRoleName role, assumed
	// from the management account, in the World's Region.
	Config aws.Config
}

// WorldSpec describes the organization BuildWorld creates. The zero value
// gives an organization with a logging account and one member, all under
// the root, in DefaultRegion.
type WorldSpec struct {
	Region string
	// OUs are created under the root, in order; members may name them.
	OUs []string
	// LoggingName defaults to "logging"; LoggingOU (an OU name from OUs)
	// defaults to the root.
	LoggingName string
	LoggingOU   string
	// Members defaults to one member named "member-1" under the root.
	Members []MemberSpec
	// NoMembers creates no member besides the logging account.
	NoMembers bool
}

// MemberSpec is one member account of a WorldSpec.
type MemberSpec struct {
	Name string
	OU   string // an OU name from WorldSpec.OUs; "" for the root
}

// World is a freshly built organization in the emulator. It holds no
// trailwarden resources: tests build those on top.
type World struct {
	Server *Server
	Region string

	Management     aws.Config // the management account (ManagementAccountID)
	OrganizationID string
	RootID         string
	OUs            map[string]string // OU name → id

	Logging Account
	Members []Account
}

// BuildWorld creates the organization described by spec with mgmt = the
// server's management config. It does not reset the server first; call
// Reset before it for a fresh world (NewEnv does both).
func (s *Server) BuildWorld(ctx context.Context, spec WorldSpec) (*World, error) {
	if spec.Region == "" {
		spec.Region = DefaultRegion
	}
	if spec.LoggingName == "" {
		spec.LoggingName = "logging"
	}
	if len(spec.Members) == 0 && !spec.NoMembers {
		spec.Members = []MemberSpec{{Name: "member-1"}}
	}
	w := &World{
		Server:     s,
		Region:     spec.Region,
		Management: s.ManagementConfig(spec.Region),
		OUs:        map[string]string{},
	}
	var err error
	if w.OrganizationID, w.RootID, err = CreateOrganization(ctx, w.Management); err != nil {
		return nil, err
	}
	for _, name := range spec.OUs {
		if w.OUs[name], err = CreateOU(ctx, w.Management, w.RootID, name); err != nil {
			return nil, err
		}
	}
	if w.Logging, err = w.addAccount(ctx, spec.LoggingName, spec.LoggingOU); err != nil {
		return nil, err
	}
	for _, m := range spec.Members {
		a, err := w.addAccount(ctx, m.Name, m.OU)
		if err != nil {
			return nil, err
		}
		w.Members = append(w.Members, a)
	}
	return w, nil
}

func (w *World) addAccount(ctx context.Context, name, ou string) (Account, error) {
	parent := ""
	if ou != "" {
		id, ok := w.OUs[ou]
		if !ok {
			return Account{}, fmt.Errorf("emulator: account %q: OU %q is not in the world's OUs", name, ou)
		}
		parent = id
	}
	id, err := CreateAccount(ctx, w.Management, AccountRequest{Name: name, ParentID: parent})
	if err != nil {
		return Account{}, err
	}
	cfg, err := w.Server.AssumeConfig(ctx, w.Management, id, AccessRoleName, w.Region)
	if err != nil {
		return Account{}, err
	}
	return Account{ID: id, Name: name, Config: cfg}, nil
}

// AddMember creates one more member account (under ou, an OU name of the
// world, or the root for "") and appends it to w.Members.
func (w *World) AddMember(ctx context.Context, name, ou string) (Account, error) {
	a, err := w.addAccount(ctx, name, ou)
	if err != nil {
		return Account{}, err
	}
	w.Members = append(w.Members, a)
	return a, nil
}

// Member returns the member named name.
func (w *World) Member(name string) (Account, bool) {
	for _, m := range w.Members {
		if m.Name == name {
			return m, true
		}
	}
	return Account{}, false
}

// Assume returns a config for accountID through its AccessRoleName role,
// assumed from the management account, in region ("" for the world's).
func (w *World) Assume(ctx context.Context, accountID, region string) (aws.Config, error) {
	if region == "" {
		region = w.Region
	}
	return w.Server.AssumeConfig(ctx, w.Management, accountID, AccessRoleName, region)
}
