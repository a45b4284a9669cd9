// An OAuth 2.0 client as a Go service writes one, with Debian's golang.org/x/oauth2 and
// gopkg.in/square/go-jose.v2 unmodified: RFC 8414 metadata, the client credentials grant
// (clientcredentials, HTTP Basic), RFC 7662 introspection (x/oauth2 has none: a form POST
// with the same client authentication), and go-jose verifying the access token with the
// published JWKS alone. Built in GOPATH mode against /usr/share/gocode (test_go_oauth2.py).
// stdin: {"issuer", "client_id", "secret", "scope", "audience", "ca", "algorithms"}
// stdout: {"token_type", "introspection", "forged_introspection", "header", "claims"} or {"error"}
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	jose "gopkg.in/square/go-jose.v2"
	"gopkg.in/square/go-jose.v2/jwt"
)

type request struct {
	Issuer     string   `json:"issuer"`
	ClientID   string   `json:"client_id"`
	Secret     string   `json:"secret"`
	Scope      string   `json:"scope"`
	Audience   string   `json:"audience"`
	CA         string   `json:"ca"`
	Algorithms []string `json:"algorithms"`
}

type metadata struct {
	Issuer                string `json:"issuer"`
	TokenEndpoint         string `json:"token_endpoint"`
	IntrospectionEndpoint string `json:"introspection_endpoint"`
	JwksURI               string `json:"jwks_uri"`
}

func getJSON(client *http.Client, address string, into interface{}) error {
	resp, err := client.Get(address)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", address, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(into)
}

func introspect(client *http.Client, meta metadata, req request, token string) (map[string]interface{}, error) {
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	post, err := http.NewRequest("POST", meta.IntrospectionEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	post.SetBasicAuth(url.QueryEscape(req.ClientID), url.QueryEscape(req.Secret)) // RFC 6749 §2.3.1
	resp, err := client.Do(post)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("introspection: %s", resp.Status)
	}
	answer := map[string]interface{}{}
	return answer, json.NewDecoder(resp.Body).Decode(&answer)
}

func run(req request) (map[string]interface{}, error) {
	pem, err := os.ReadFile(req.CA)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("no certificate in %s", req.CA)
	}
	client := &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}

	var meta metadata
	if err := getJSON(client, strings.TrimSuffix(req.Issuer, "/")+"/.well-known/oauth-authorization-server", &meta); err != nil {
		return nil, err
	}
	if meta.Issuer != req.Issuer {
		return nil, fmt.Errorf("metadata names issuer %q, not %q", meta.Issuer, req.Issuer)
	}
	grant := clientcredentials.Config{ClientID: req.ClientID, ClientSecret: req.Secret, TokenURL: meta.TokenEndpoint,
		Scopes: strings.Fields(req.Scope), AuthStyle: oauth2.AuthStyleInHeader}
	token, err := grant.Token(context.WithValue(context.Background(), oauth2.HTTPClient, client))
	if err != nil {
		return nil, err
	}
	info, err := introspect(client, meta, req, token.AccessToken)
	if err != nil {
		return nil, err
	}
	parts := strings.Split(token.AccessToken, ".")
	sig := parts[2]
	if strings.HasSuffix(sig, "AAAA") {
		sig = sig[:len(sig)-4] + "BBBB"
	} else {
		sig = sig[:len(sig)-4] + "AAAA"
	}
	forged, err := introspect(client, meta, req, parts[0]+"."+parts[1]+"."+sig)
	if err != nil {
		return nil, err
	}

	var keys jose.JSONWebKeySet
	if err := getJSON(client, meta.JwksURI, &keys); err != nil {
		return nil, err
	}
	parsed, err := jwt.ParseSigned(token.AccessToken)
	if err != nil {
		return nil, err
	}
	header := parsed.Headers[0]
	allowed := false
	for _, alg := range req.Algorithms {
		allowed = allowed || alg == header.Algorithm
	}
	if !allowed {
		return nil, fmt.Errorf("algorithm %s not allowed", header.Algorithm)
	}
	matching := keys.Key(header.KeyID)
	if len(matching) != 1 {
		return nil, fmt.Errorf("kid %s is not in the JWKS once", header.KeyID)
	}
	var standard jwt.Claims
	claims := map[string]interface{}{}
	if err := parsed.Claims(matching[0].Key, &standard, &claims); err != nil {
		return nil, err
	}
	expected := jwt.Expected{Issuer: meta.Issuer, Audience: jwt.Audience{req.Audience}, Time: time.Now()}
	if err := standard.ValidateWithLeeway(expected, 5*time.Second); err != nil {
		return nil, err
	}
	return map[string]interface{}{"token_type": token.TokenType, "introspection": info, "forged_introspection": forged,
		"header": map[string]interface{}{"alg": header.Algorithm, "kid": header.KeyID, "typ": header.ExtraHeaders["typ"]},
		"claims": claims}, nil
}

func main() {
	var req request
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	out, err := run(req)
	if err != nil {
		out = map[string]interface{}{"error": err.Error()}
	}
	json.NewEncoder(os.Stdout).Encode(out)
}
