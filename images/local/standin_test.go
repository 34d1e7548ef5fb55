package local_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
)

// call is one request the instance made of the AWS stand-in: the service (from its SigV4
// credential scope), the operation, and what the IAM evaluator needs to weigh it.
type call struct {
	Service, Operation string
	Params             url.Values // query-protocol parameters, or the REST path's parts
	Path               string     // REST: bucket/key, hosted zone, change
	At                 time.Time
}

// action is the IAM action the call is authorised as.
func (c call) action() string {
	switch {
	case c.Service == "s3" && c.Operation == "ListObjectsV2":
		return "s3:ListBucket"
	case c.Service == "s3" && c.Operation == "HeadObject":
		return "s3:GetObject"
	case c.Service == "monitoring":
		return "cloudwatch:" + c.Operation
	}
	return c.Service + ":" + c.Operation
}

// standIn plays the AWS APIs an instance of the eip edge calls (Auto Scaling's lifecycle calls,
// EC2 AssociateAddress, CloudWatch PutMetricData, S3 for the certificate state, Route 53 for
// certbot's DNS-01 records, fed on to pebble-challtestsrv), answers as AWS would, and records
// every call. Signatures are not checked: the VM's credentials are the metadata mock's.
type standIn struct {
	mu      sync.Mutex
	calls   []call
	objects map[string][]byte // bucket/key
	group   string
	states  map[string]string // each instance's lifecycle state; Pending:Wait until it completes its hook
	// registry and password: what ECR's GetAuthorizationToken hands out (the registry stand-in's).
	registry, password string
	zoneID             string
	zoneName           string
	setTXT             func(name, value string) error
	clearTXT           func(name string) error
	changeSeq          int
	// secrets are the values behind SSM parameter names and Secrets Manager ids (names or ARNs).
	secrets map[string]string
}

var scopeRE = regexp.MustCompile(`Credential=[^/]+/[0-9]+/[^/]+/([^/]+)/aws4_request`)

func (s *standIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	service := ""
	if m := scopeRE.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		service = m[1]
	}
	var err error
	switch service {
	case "s3":
		err = s.s3(w, r, body)
	case "route53":
		err = s.route53(w, r, body)
	case "autoscaling", "ec2", "monitoring":
		err = s.query(w, r, service, body)
	case "ecr":
		err = s.ecr(w, r)
	case "secretsmanager", "ssm":
		err = s.secret(w, r, service, body)
	default:
		err = fmt.Errorf("no stand-in for service %q (%s %s)", service, r.Method, r.URL)
	}
	if err != nil {
		s.record(call{Service: service, Operation: "Unsupported", Path: err.Error()})
		http.Error(w, err.Error(), http.StatusNotImplemented)
	}
}

func (s *standIn) record(c call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c.At = time.Now()
	s.calls = append(s.calls, c)
}

// Calls returns the calls so far.
func (s *standIn) Calls() []call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]call(nil), s.calls...)
}

// object returns what the stand-in's S3 holds at bucket/key.
func (s *standIn) object(path string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.objects[path]
	return b, ok
}

func xmlReply(w http.ResponseWriter, status int, body string) error {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	_, err := io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?>`+body)
	return err
}

// query answers the query protocol (form-encoded Action=...), which Auto Scaling, EC2 and this
// CLI's CloudWatch speak.
func (s *standIn) query(w http.ResponseWriter, r *http.Request, service string, body []byte) error {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		return fmt.Errorf("%s: content type %q, want the query protocol", service, ct)
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return err
	}
	op := form.Get("Action")
	s.record(call{Service: service, Operation: op, Params: form})
	ns := map[string]string{
		"autoscaling": "http://autoscaling.amazonaws.com/doc/2011-01-01/",
		"ec2":         "http://ec2.amazonaws.com/doc/2016-11-15/",
		"monitoring":  "http://monitoring.amazonaws.com/doc/2010-08-01/",
	}[service]
	meta := `<ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ResponseMetadata>`
	s.mu.Lock()
	defer s.mu.Unlock()
	id := form.Get("InstanceIds.member.1")
	if id == "" {
		id = form.Get("InstanceId")
	}
	state, ok := s.states[id]
	if !ok {
		state = "Pending:Wait"
	}
	switch op {
	case "DescribeAutoScalingInstances":
		return xmlReply(w, http.StatusOK, fmt.Sprintf(`<DescribeAutoScalingInstancesResponse xmlns="%s"><DescribeAutoScalingInstancesResult><AutoScalingInstances><member>`+
			`<InstanceId>%s</InstanceId><InstanceType>t3.small</InstanceType><AutoScalingGroupName>%s</AutoScalingGroupName>`+
			`<AvailabilityZone>eu-central-1a</AvailabilityZone><LifecycleState>%s</LifecycleState><HealthStatus>HEALTHY</HealthStatus>`+
			`<ProtectedFromScaleIn>false</ProtectedFromScaleIn></member></AutoScalingInstances></DescribeAutoScalingInstancesResult>%s</DescribeAutoScalingInstancesResponse>`,
			ns, id, s.group, state, meta))
	case "CompleteLifecycleAction":
		if s.states == nil {
			s.states = map[string]string{}
		}
		s.states[id] = map[string]string{"CONTINUE": "Pending:Proceed", "ABANDON": "Terminating"}[form.Get("LifecycleActionResult")]
	case "AssociateAddress":
		return xmlReply(w, http.StatusOK, fmt.Sprintf(`<AssociateAddressResponse xmlns="%s"><requestId>1</requestId><return>true</return>`+
			`<associationId>eipassoc-0123456789abcdef0</associationId></AssociateAddressResponse>`, ns))
	case "RecordLifecycleActionHeartbeat", "SetInstanceHealth", "PutMetricData":
	default:
		return fmt.Errorf("%s: no stand-in for %s", service, op)
	}
	return xmlReply(w, http.StatusOK, fmt.Sprintf(`<%sResponse xmlns="%s"><%sResult/>%s</%sResponse>`, op, ns, op, meta, op))
}

// ecr answers GetAuthorizationToken (the JSON protocol), the one ECR call the credential
// helper makes: the token is base64 of AWS:<password> for the registry's endpoint, valid 12 h,
// as ECR documents it.
func (s *standIn) ecr(w http.ResponseWriter, r *http.Request) error {
	const prefix = "AmazonEC2ContainerRegistry_V20150921."
	target := r.Header.Get("X-Amz-Target")
	if !strings.HasPrefix(target, prefix) {
		return fmt.Errorf("ecr: target %q", target)
	}
	op := strings.TrimPrefix(target, prefix)
	s.record(call{Service: "ecr", Operation: op})
	if op != "GetAuthorizationToken" {
		return fmt.Errorf("ecr: no stand-in for %s", op)
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	return json.NewEncoder(w).Encode(map[string]any{"authorizationData": []any{map[string]any{
		"authorizationToken": base64.StdEncoding.EncodeToString([]byte("AWS:" + s.password)),
		"expiresAt":          time.Now().Add(12 * time.Hour).Unix(),
		"proxyEndpoint":      "https://" + s.registry,
	}}})
}

// secret answers secrets.sh's reads (the JSON protocol): SSM GetParameter with decryption and
// Secrets Manager GetSecretValue, from the stand-in's values; an unknown one is
// ResourceNotFound / ParameterNotFound, as AWS answers.
func (s *standIn) secret(w http.ResponseWriter, r *http.Request, service string, body []byte) error {
	var in struct {
		Name, SecretID string
		WithDecryption bool
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return err
	}
	target := r.Header.Get("X-Amz-Target")
	id := in.Name + in.SecretID
	s.record(call{Service: service, Operation: target[strings.LastIndex(target, ".")+1:], Path: id})
	s.mu.Lock()
	value, ok := s.secrets[id]
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	switch {
	case target == "AmazonSSM.GetParameter" && ok && in.WithDecryption:
		return json.NewEncoder(w).Encode(map[string]any{"Parameter": map[string]any{"Name": id, "Type": "SecureString", "Value": value, "Version": 1}})
	case target == "AmazonSSM.GetParameter":
		w.WriteHeader(http.StatusBadRequest)
		_, err := io.WriteString(w, `{"__type":"ParameterNotFound","message":"`+id+`"}`)
		return err
	case target == "secretsmanager.GetSecretValue" && ok:
		return json.NewEncoder(w).Encode(map[string]any{"ARN": id, "Name": id, "SecretString": value, "VersionId": "v1"})
	case target == "secretsmanager.GetSecretValue":
		w.WriteHeader(http.StatusBadRequest)
		_, err := io.WriteString(w, `{"__type":"ResourceNotFoundException","Message":"Secrets Manager can't find the specified secret."}`)
		return err
	}
	return fmt.Errorf("%s: no stand-in for %s", service, target)
}

// s3 answers the REST calls certstate.sh makes (path-style addressing).
func (s *standIn) s3(w http.ResponseWriter, r *http.Request, body []byte) error {
	path := strings.TrimPrefix(r.URL.Path, "/")
	bucket, key, _ := strings.Cut(path, "/")
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case r.Method == http.MethodGet && key == "" && r.URL.Query().Get("list-type") == "2":
		prefix := r.URL.Query().Get("prefix")
		s.calls = append(s.calls, call{Service: "s3", Operation: "ListObjectsV2", Path: bucket, Params: r.URL.Query(), At: time.Now()})
		var keys []string
		for k := range s.objects {
			if b, rest, _ := strings.Cut(k, "/"); b == bucket && strings.HasPrefix(rest, prefix) {
				keys = append(keys, rest)
			}
		}
		sort.Strings(keys)
		var contents strings.Builder
		for _, k := range keys {
			fmt.Fprintf(&contents, `<Contents><Key>%s</Key><LastModified>2026-12-01T00:00:00.000Z</LastModified><ETag>"0"</ETag><Size>%d</Size><StorageClass>STANDARD</StorageClass></Contents>`,
				k, len(s.objects[bucket+"/"+k]))
		}
		return xmlReply(w, http.StatusOK, fmt.Sprintf(`<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>%s</Name><Prefix>%s</Prefix>`+
			`<KeyCount>%d</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>%s</ListBucketResult>`, bucket, prefix, len(keys), contents.String()))
	case (r.Method == http.MethodGet || r.Method == http.MethodHead) && key != "":
		op := map[string]string{http.MethodGet: "GetObject", http.MethodHead: "HeadObject"}[r.Method]
		s.calls = append(s.calls, call{Service: "s3", Operation: op, Path: path, At: time.Now()})
		obj, ok := s.objects[path]
		if !ok {
			return xmlReply(w, http.StatusNotFound, `<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>`)
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(obj)))
		w.Header().Set("ETag", `"0"`)
		w.Header().Set("Last-Modified", "Tue, 01 Dec 2026 00:00:00 GMT")
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			_, err := w.Write(obj)
			return err
		}
		return nil
	case r.Method == http.MethodPut && key != "":
		s.calls = append(s.calls, call{Service: "s3", Operation: "PutObject", Path: path, At: time.Now()})
		s.objects[path] = body
		w.Header().Set("ETag", `"0"`)
		w.WriteHeader(http.StatusOK)
		return nil
	}
	return fmt.Errorf("s3: no stand-in for %s %s", r.Method, r.URL)
}

// changeBatch is the part of ChangeResourceRecordSets certbot's Route 53 plugin fills in.
type changeBatch struct {
	Changes []struct {
		Action string `xml:"Action"`
		Set    struct {
			Name   string   `xml:"Name"`
			Type   string   `xml:"Type"`
			Values []string `xml:"ResourceRecords>ResourceRecord>Value"`
		} `xml:"ResourceRecordSet"`
	} `xml:"ChangeBatch>Changes>Change"`
}

// route53 answers the calls of certbot's Route 53 plugin: it finds the zone, upserts and later
// deletes the TXT records, and waits for each change; the records go on to the DNS server
// pebble asks.
func (s *standIn) route53(w http.ResponseWriter, r *http.Request, body []byte) error {
	const ns = "https://route53.amazonaws.com/doc/2013-04-01/"
	p := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/2013-04-01/"), "/")
	switch {
	case r.Method == http.MethodGet && p == "hostedzone":
		s.record(call{Service: "route53", Operation: "ListHostedZones"})
		return xmlReply(w, http.StatusOK, fmt.Sprintf(`<ListHostedZonesResponse xmlns="%s"><HostedZones><HostedZone><Id>/hostedzone/%s</Id><Name>%s</Name>`+
			`<CallerReference>ie</CallerReference><Config><PrivateZone>false</PrivateZone></Config><ResourceRecordSetCount>2</ResourceRecordSetCount>`+
			`</HostedZone></HostedZones><IsTruncated>false</IsTruncated><MaxItems>100</MaxItems></ListHostedZonesResponse>`, ns, s.zoneID, s.zoneName))
	case r.Method == http.MethodPost && strings.HasPrefix(p, "hostedzone/") && strings.HasSuffix(p, "/rrset"):
		zone := strings.TrimSuffix(strings.TrimPrefix(p, "hostedzone/"), "/rrset")
		var batch changeBatch
		if err := xml.NewDecoder(bytes.NewReader(body)).Decode(&batch); err != nil {
			return fmt.Errorf("route53: %w", err)
		}
		actions := url.Values{}
		for _, c := range batch.Changes {
			actions.Add("Action", c.Action)
		}
		s.record(call{Service: "route53", Operation: "ChangeResourceRecordSets", Path: zone, Params: actions})
		for _, c := range batch.Changes {
			if c.Set.Type != "TXT" {
				return fmt.Errorf("route53: a %s record", c.Set.Type)
			}
			var err error
			switch c.Action {
			case "UPSERT", "CREATE":
				for _, v := range c.Set.Values {
					if err = s.setTXT(c.Set.Name, strings.Trim(v, `"`)); err != nil {
						break
					}
				}
			case "DELETE":
				err = s.clearTXT(c.Set.Name)
			}
			if err != nil {
				return fmt.Errorf("route53: pebble-challtestsrv: %w", err)
			}
		}
		s.mu.Lock()
		s.changeSeq++
		id := fmt.Sprintf("C%012d", s.changeSeq)
		s.mu.Unlock()
		return xmlReply(w, http.StatusOK, fmt.Sprintf(`<ChangeResourceRecordSetsResponse xmlns="%s"><ChangeInfo><Id>/change/%s</Id><Status>PENDING</Status>`+
			`<SubmittedAt>2026-12-01T00:00:00.000Z</SubmittedAt></ChangeInfo></ChangeResourceRecordSetsResponse>`, ns, id))
	case r.Method == http.MethodGet && strings.HasPrefix(p, "change/"):
		id := strings.TrimPrefix(p, "change/")
		s.record(call{Service: "route53", Operation: "GetChange", Path: id})
		return xmlReply(w, http.StatusOK, fmt.Sprintf(`<GetChangeResponse xmlns="%s"><ChangeInfo><Id>/change/%s</Id><Status>INSYNC</Status>`+
			`<SubmittedAt>2026-12-01T00:00:00.000Z</SubmittedAt></ChangeInfo></GetChangeResponse>`, ns, id))
	}
	return fmt.Errorf("route53: no stand-in for %s %s", r.Method, r.URL)
}
