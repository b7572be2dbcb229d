// Package orgdir reads the organization's directory from the management
// account: an account's state, name and OU path (root first), and the list
// of all accounts for backfill and reconcile. Reads are cached per run
// (OU parents rarely change; a MoveAccount event invalidates its account).
package orgdir

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/trailwarden/trailwarden/shared/fault"
)

// API is the part of the Organizations client the directory calls.
type API interface {
	DescribeAccount(ctx context.Context, in *organizations.DescribeAccountInput, optFns ...func(*organizations.Options)) (*organizations.DescribeAccountOutput, error)
	ListParents(ctx context.Context, in *organizations.ListParentsInput, optFns ...func(*organizations.Options)) (*organizations.ListParentsOutput, error)
	organizations.ListAccountsAPIClient
}

var _ API = (*organizations.Client)(nil)

// Account is what trailwarden needs to know about a member.
type Account struct {
	ID     string
	Name   string
	State  string   // ACTIVE, SUSPENDED, PENDING_CLOSURE, CLOSED, PENDING_ACTIVATION
	OUPath []string // OU ids from the root down (the root itself excluded)
	Joined string   // CREATED | INVITED
}

// Active reports whether the account can and should have a trail.
func (a Account) Active() bool { return a.State == "" || a.State == "ACTIVE" }

// Directory answers questions about accounts, caching parents.
type Directory struct {
	API API
	mu  sync.Mutex
	// parent of an OU or account id → its parent id ("r-…" for the root).
	parents map[string]string
	// Calls counts Organizations calls made (for budgets and benchmarks).
	Calls int
}

// New returns a directory over api.
func New(api API) *Directory { return &Directory{API: api, parents: map[string]string{}} }

// Forget drops a cached parent (after MoveAccount).
func (d *Directory) Forget(id string) {
	d.mu.Lock()
	delete(d.parents, id)
	d.mu.Unlock()
}

// Describe returns one account with its OU path.
func (d *Directory) Describe(ctx context.Context, id string) (Account, error) {
	d.count()
	out, err := d.API.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String(id)})
	if err != nil {
		if fault.IsAPIError(err, "AccountNotFoundException") {
			return Account{}, fault.New(fault.Poison, "AccountNotFound", fmt.Errorf("account %s is not in the organization: %w", id, err))
		}
		return Account{}, fmt.Errorf("describe account %s: %w", id, err)
	}
	acc := fromSDK(*out.Account)
	if acc.OUPath, err = d.Path(ctx, id); err != nil {
		return Account{}, err
	}
	return acc, nil
}

func fromSDK(a types.Account) Account {
	state := string(a.State)
	if state == "" {
		state = string(a.Status)
	}
	return Account{ID: aws.ToString(a.Id), Name: aws.ToString(a.Name), State: state, Joined: string(a.JoinedMethod)}
}

func (d *Directory) count() {
	d.mu.Lock()
	d.Calls++
	d.mu.Unlock()
}

// Path returns the OU ids from the root down to the account's parent.
func (d *Directory) Path(ctx context.Context, id string) ([]string, error) {
	var rev []string
	cur := id
	for depth := 0; depth < 10; depth++ { // Organizations nests OUs at most five deep
		parent, err := d.parent(ctx, cur)
		if err != nil {
			return nil, err
		}
		if strings.HasPrefix(parent, "r-") || parent == "" {
			out := make([]string, len(rev))
			for i := range rev {
				out[i] = rev[len(rev)-1-i]
			}
			return out, nil
		}
		rev = append(rev, parent)
		cur = parent
	}
	return nil, fmt.Errorf("OU path of %s is deeper than Organizations allows", id)
}

func (d *Directory) parent(ctx context.Context, child string) (string, error) {
	d.mu.Lock()
	p, ok := d.parents[child]
	d.mu.Unlock()
	if ok {
		return p, nil
	}
	d.count()
	out, err := d.API.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String(child)})
	if err != nil {
		return "", fmt.Errorf("list parents of %s: %w", child, err)
	}
	if len(out.Parents) == 0 {
		return "", nil
	}
	p = aws.ToString(out.Parents[0].Id)
	d.mu.Lock()
	d.parents[child] = p
	d.mu.Unlock()
	return p, nil
}

// List returns every account of the organization (paginated ListAccounts),
// without OU paths.
func (d *Directory) List(ctx context.Context) ([]Account, error) {
	var all []Account
	pages := organizations.NewListAccountsPaginator(d.API, &organizations.ListAccountsInput{})
	for pages.HasMorePages() {
		d.count()
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list accounts: %w", err)
		}
		for _, a := range page.Accounts {
			all = append(all, fromSDK(a))
		}
	}
	return all, nil
}
