package dbtcloud

import (
	"context"
	"iter"
	"net/http"
)

// AccountsService handles accounts.
//
// dbt Cloud API docs: https://docs.getdbt.com/dbt-cloud/api-v2#/operations/List%20Accounts
type AccountsService service

// List returns the accounts the token can reach.
//
//meta:operation GET /api/v2/accounts/
func (s *AccountsService) List(ctx context.Context) ([]Account, *Response, error) {
	var out []Account
	resp, err := s.client.do(ctx, &apiRequest{method: http.MethodGet, path: "api/v2/accounts/", idempotent: true}, &out)
	if err != nil {
		return nil, resp, err
	}
	return out, resp, nil
}

// ListIter yields every account. dbt Cloud does not page this list, so it
// makes one call.
func (s *AccountsService) ListIter(ctx context.Context) iter.Seq2[*Account, error] {
	return func(yield func(*Account, error) bool) {
		accts, _, err := s.List(ctx)
		if err != nil {
			yield(nil, err)
			return
		}
		for i := range accts {
			if !yield(&accts[i], nil) {
				return
			}
		}
	}
}

// Get returns one account; use it to check that a token reaches an account.
//
//meta:operation GET /api/v2/accounts/{account_id}/
func (s *AccountsService) Get(ctx context.Context, accountID int64) (*Account, *Response, error) {
	if err := checkID("account", accountID); err != nil {
		return nil, nil, err
	}
	var out Account
	resp, err := s.client.do(ctx, &apiRequest{method: http.MethodGet, path: accountPath("v2", accountID, ""), account: accountID, idempotent: true}, &out)
	if err != nil {
		return nil, resp, err
	}
	return &out, resp, nil
}
