package ledger

// Stable Region ids for the packed item (itemcodec.go). The table is
// append-only: an id, once released, names the same Region for ever, so
// that items written by any release read the same. It is committed by hand,
// not generated, because AWS's partition data lists Regions in an order
// that changes as Regions launch (regionid_test.go checks that every listed
// Region has an id and that no id moved). A Region without an id (launched
// after this build) is stored by name under id 0.
var regionNames = [...]string{
	0: "", // a Region stored by name
	1: "us-east-1", 2: "us-east-2", 3: "us-west-1", 4: "us-west-2",
	5: "af-south-1", 6: "ap-east-1", 7: "ap-east-2", 8: "ap-northeast-1",
	9: "ap-northeast-2", 10: "ap-northeast-3", 11: "ap-south-1", 12: "ap-south-2",
	13: "ap-southeast-1", 14: "ap-southeast-2", 15: "ap-southeast-3", 16: "ap-southeast-4",
	17: "ap-southeast-5", 18: "ap-southeast-6", 19: "ap-southeast-7", 20: "ca-central-1",
	21: "ca-west-1", 22: "eu-central-1", 23: "eu-central-2", 24: "eu-north-1",
	25: "eu-south-1", 26: "eu-south-2", 27: "eu-west-1", 28: "eu-west-2",
	29: "eu-west-3", 30: "il-central-1", 31: "me-central-1", 32: "me-south-1",
	33: "me-west-1", 34: "mx-central-1", 35: "sa-east-1", 36: "sa-west-1",
	37: "cn-north-1", 38: "cn-northwest-1", 39: "eusc-de-east-1", 40: "us-iso-east-1",
	41: "us-iso-west-1", 42: "us-isob-east-1", 43: "us-isob-west-1", 44: "eu-isoe-west-1",
	45: "us-isof-east-1", 46: "us-isof-south-1", 47: "us-gov-east-1", 48: "us-gov-west-1",
}

// regionIDs is regionNames' inverse.
var regionIDs = func() map[string]uint64 {
	m := make(map[string]uint64, len(regionNames))
	for id, name := range regionNames {
		if id > 0 {
			m[name] = uint64(id)
		}
	}
	return m
}()
