package connection_test

import (
	"fmt"
	"strings"

	"github.com/dbtlink/dbtlink/internal/connection"
)

func ExampleMask() {
	fmt.Println(connection.Mask("dbtc_0123456789abcdefghijklmnopqrstuvwx"))
	fmt.Println(connection.Mask("short"))
	// Output:
	// dbtc****…(39 chars)
	// ****…(5 chars)
}

func ExampleReadToken() {
	tok, err := connection.ReadToken(strings.NewReader("dbtc_0123456789abcdefghij\n"))
	if err != nil {
		fmt.Println(err)
		return
	}
	c := connection.Connection{Name: "prod", Host: "https://cloud.getdbt.com", AccountID: 1, Token: tok}
	fmt.Printf("%+v\n", c)
	// Output:
	// {Name:prod Host:https://cloud.getdbt.com AccountID:1 Token:dbtc****…(25 chars) Default:false Source: Origin:}
}

func ExampleParseAirflow() {
	c, err := connection.ParseAirflow("dbt_cloud_default", "dbt-cloud://12345:dbtc_secret%2Ftoken@ab123.us1.dbt.com")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.Name, c.Host, c.AccountID, c.Token.Reveal() == "dbtc_secret/token")
	// Output:
	// dbt_cloud_default https://ab123.us1.dbt.com 12345 true
}
