package dbtcloud_test

import (
	"fmt"

	"github.com/dbtlink/dbtlink/dbtcloud"
)

func ExampleNormalizeHost() {
	for _, in := range []string{"cloud.getdbt.com", "https://ab123.us1.dbt.com/api/v2/", "https://emea.dbt.com/deploy/1"} {
		h, err := dbtcloud.NormalizeHost(in)
		if err != nil {
			fmt.Println("error:", err)
			continue
		}
		fmt.Println(h)
	}
	// Output:
	// https://cloud.getdbt.com
	// https://ab123.us1.dbt.com
	// error: dbtcloud: host "https://emea.dbt.com/deploy/1" has unexpected path "/deploy/1" (only /api, /api/v2 or /api/v3 may follow the host): expected a dbt Cloud access URL such as "cloud.getdbt.com", "https://ab123.us1.dbt.com" or "https://emea.dbt.com/api/v2"
}

func ExampleDiscoveryURL() {
	fmt.Println(dbtcloud.DiscoveryURL("cloud.getdbt.com"))
	fmt.Println(dbtcloud.DiscoveryURL("https://ab123.us1.dbt.com"))
	// Output:
	// https://metadata.cloud.getdbt.com/graphql
	// https://ab123.metadata.us1.dbt.com/graphql
}

func ExampleExtractTriggerMarker() {
	cause := dbtcloud.AddTriggerMarker("Deploy from CI", "00112233aabbccdd")
	fmt.Println(cause)
	m, ok := dbtcloud.ExtractTriggerMarker(cause)
	fmt.Println(m, ok)
	// Output:
	// Deploy from CI [dbtlink:00112233aabbccdd]
	// 00112233aabbccdd true
}
