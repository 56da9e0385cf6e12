package awsfake

import (
	"encoding/xml"
	"net/http"
)

// STS fakes the AWS Security Token Service's GetCallerIdentity over the
// AWS Query protocol (a form POST with Action=GetCallerIdentity and
// Version=2011-06-15, an XML answer), as its API reference documents it:
// "Returns details about the IAM user or role whose credentials are used
// to call the operation. No permissions are required to perform this
// operation." The caller is the IAM principal of the request's access
// key; an unknown key is refused with InvalidClientTokenId (403), as STS
// does.
type STS struct {
	IAM *IAM
}

// NewSTS returns a fake answering for the principals of iam.
func NewSTS(iam *IAM) *STS { return &STS{IAM: iam} }

const stsNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"

type stsCallerIdentity struct {
	XMLName xml.Name `xml:"GetCallerIdentityResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Result  struct {
		Arn     string `xml:"Arn"`
		UserID  string `xml:"UserId"`
		Account string `xml:"Account"`
	} `xml:"GetCallerIdentityResult"`
	RequestID string `xml:"ResponseMetadata>RequestId"`
}

type stsErrorResponse struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Error   struct {
		Type    string `xml:"Type"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	} `xml:"Error"`
	RequestID string `xml:"RequestId"`
}

func (s *STS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.Method != http.MethodPost {
		stsError(w, http.StatusBadRequest, "InvalidAction", "Could not find operation for this request.")
		return
	}
	if a := r.PostForm.Get("Action"); a != "GetCallerIdentity" {
		stsError(w, http.StatusBadRequest, "InvalidAction", "Could not find operation "+a+" for version "+r.PostForm.Get("Version"))
		return
	}
	p, ok := s.IAM.Lookup(AccessKeyOf(r))
	if !ok {
		stsError(w, http.StatusForbidden, "InvalidClientTokenId", "The security token included in the request is invalid.")
		return
	}
	out := stsCallerIdentity{Xmlns: stsNamespace, RequestID: newID()}
	out.Result.Arn, out.Result.UserID, out.Result.Account = p.ARN, p.UserID, p.Account
	w.Header().Set("Content-Type", "text/xml")
	_, _ = w.Write([]byte(xml.Header))
	_ = xml.NewEncoder(w).Encode(out)
}

func stsError(w http.ResponseWriter, status int, code, msg string) {
	out := stsErrorResponse{Xmlns: stsNamespace, RequestID: newID()}
	out.Error.Type, out.Error.Code, out.Error.Message = "Sender", code, msg
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(xml.Header))
	_ = xml.NewEncoder(w).Encode(out)
}
