// Package partdata reads AWS's partition data in the form aws-sdk-go-v2
// ships it, for the generator of awsid's table and the test that compares
// the table with the pinned SDK.
package partdata

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
)

// Module and File locate the data: the file inside the module's directory.
const (
	Module = "github.com/aws/aws-sdk-go-v2"
	File   = "internal/endpoints/awsrulesfn/partitions.json"
)

// Partition is one partition: its id, the pattern of its Region codes and
// its Regions, sorted. Pseudo-Regions the SDK lists for global endpoints
// (aws-global) are left out: they do not match the partition's pattern.
type Partition struct {
	ID          string
	RegionRegex string
	Regions     []string
}

// Parse decodes partitions.json, keeping the file's order of partitions
// (the SDK resolves a Region by pattern in that order).
func Parse(raw []byte) ([]Partition, error) {
	var doc struct {
		Partitions []struct {
			ID          string                     `json:"id"`
			RegionRegex string                     `json:"regionRegex"`
			Regions     map[string]json.RawMessage `json:"regions"`
		} `json:"partitions"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("partitions.json: %w", err)
	}
	out := make([]Partition, 0, len(doc.Partitions))
	for _, p := range doc.Partitions {
		re, err := regexp.Compile(p.RegionRegex)
		if err != nil {
			return nil, fmt.Errorf("partition %s: regionRegex: %w", p.ID, err)
		}
		part := Partition{ID: p.ID, RegionRegex: p.RegionRegex}
		for r := range p.Regions {
			if re.MatchString(r) {
				part.Regions = append(part.Regions, r)
			}
		}
		sort.Strings(part.Regions)
		out = append(out, part)
	}
	return out, nil
}
