package dbtcloud

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// WebhooksService handles webhook subscriptions (v3 API). Note that these
// paths have no trailing slash and the envelope's status is only a code.
//
// dbt Cloud API docs: https://docs.getdbt.com/dbt-cloud/api-v3#/operations/List%20Webhooks%20Subscriptions
type WebhooksService service

// List returns one page of the account's webhook subscriptions.
//
//meta:operation GET /api/v3/accounts/{account_id}/webhooks/subscriptions
func (s *WebhooksService) List(ctx context.Context, accountID int64, opts *ListOptions) ([]WebhookSubscription, *Response, error) {
	if err := checkID("account", accountID); err != nil {
		return nil, nil, err
	}
	q := url.Values{}
	if opts != nil {
		if err := opts.encode(q); err != nil {
			return nil, nil, err
		}
	}
	var out []WebhookSubscription
	resp, err := s.client.do(ctx, &apiRequest{method: http.MethodGet, path: accountPath("v3", accountID, "webhooks/subscriptions"), query: q, account: accountID, idempotent: true}, &out)
	if err != nil {
		return nil, resp, err
	}
	return out, resp, nil
}

// Get returns one webhook subscription (without its secret).
//
//meta:operation GET /api/v3/accounts/{account_id}/webhooks/subscription/{subscription_id}
func (s *WebhooksService) Get(ctx context.Context, accountID int64, subscriptionID string) (*WebhookSubscription, *Response, error) {
	p, err := subscriptionPath(accountID, subscriptionID)
	if err != nil {
		return nil, nil, err
	}
	var out WebhookSubscription
	resp, err := s.client.do(ctx, &apiRequest{method: http.MethodGet, path: p, account: accountID, idempotent: true}, &out)
	if err != nil {
		return nil, resp, err
	}
	return &out, resp, nil
}

// Create creates a subscription. The result carries HMACSecret, which dbt
// Cloud shows only this once. Create is not retried on an unknown outcome
// (the error then wraps ErrOutcomeUnknown): list the subscriptions first.
//
//meta:operation POST /api/v3/accounts/{account_id}/webhooks/subscriptions
func (s *WebhooksService) Create(ctx context.Context, accountID int64, req *WebhookSubscriptionRequest) (*WebhookSubscription, *Response, error) {
	if err := checkID("account", accountID); err != nil {
		return nil, nil, err
	}
	if err := checkSubscriptionRequest(req); err != nil {
		return nil, nil, err
	}
	var out WebhookSubscription
	resp, err := s.client.doUnsafe(ctx, &apiRequest{method: http.MethodPost, path: accountPath("v3", accountID, "webhooks/subscriptions"), body: subscriptionBody(req), account: accountID}, &out)
	if err != nil {
		return nil, resp, err
	}
	return &out, resp, nil
}

// Update replaces a subscription's settings. PUT is idempotent, so it is
// retried like a GET.
//
//meta:operation PUT /api/v3/accounts/{account_id}/webhooks/subscription/{subscription_id}
func (s *WebhooksService) Update(ctx context.Context, accountID int64, subscriptionID string, req *WebhookSubscriptionRequest) (*WebhookSubscription, *Response, error) {
	p, err := subscriptionPath(accountID, subscriptionID)
	if err != nil {
		return nil, nil, err
	}
	if err := checkSubscriptionRequest(req); err != nil {
		return nil, nil, err
	}
	var out WebhookSubscription
	resp, err := s.client.do(ctx, &apiRequest{method: http.MethodPut, path: p, body: subscriptionBody(req), account: accountID, idempotent: true}, &out)
	if err != nil {
		return nil, resp, err
	}
	return &out, resp, nil
}

// Delete deletes a subscription.
//
//meta:operation DELETE /api/v3/accounts/{account_id}/webhooks/subscription/{subscription_id}
func (s *WebhooksService) Delete(ctx context.Context, accountID int64, subscriptionID string) (*Response, error) {
	p, err := subscriptionPath(accountID, subscriptionID)
	if err != nil {
		return nil, err
	}
	return s.client.do(ctx, &apiRequest{method: http.MethodDelete, path: p, account: accountID, idempotent: true}, nil)
}

func subscriptionPath(accountID int64, id string) (string, error) {
	if err := checkID("account", accountID); err != nil {
		return "", err
	}
	if id == "" || strings.ContainsAny(id, "/?#") || id == "." || id == ".." {
		return "", fmt.Errorf("dbtcloud: invalid webhook subscription id %q", id)
	}
	return accountPath("v3", accountID, "webhooks/subscription/%s", url.PathEscape(id)), nil
}

func checkSubscriptionRequest(req *WebhookSubscriptionRequest) error {
	switch {
	case req == nil:
		return errors.New("dbtcloud: nil webhook subscription request")
	case req.Name == "":
		return errors.New("dbtcloud: webhook subscription needs a name")
	case req.ClientURL == "":
		return errors.New("dbtcloud: webhook subscription needs a client URL")
	case len(req.EventTypes) == 0:
		return errors.New("dbtcloud: webhook subscription needs at least one event type")
	}
	return nil
}

// subscriptionBody copies req so that a nil JobIDs is sent as [] (all
// jobs) rather than null.
func subscriptionBody(req *WebhookSubscriptionRequest) *WebhookSubscriptionRequest {
	b := *req
	if b.JobIDs == nil {
		b.JobIDs = []int64{}
	}
	return &b
}
