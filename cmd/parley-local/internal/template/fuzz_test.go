package template

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// FuzzResolve: no template, however malformed (cyclic Refs, intrinsics of
// the wrong shape, anchors, deep nesting), crashes or hangs the parser or
// the resolver; it either resolves or says why not.
func FuzzResolve(f *testing.F) {
	_, file, _, _ := runtime.Caller(0)
	if b, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "..", "..", "template.yaml")); err == nil {
		f.Add(b)
	}
	for _, seed := range []string{
		"Resources:\n  A:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      TableName: !Sub '${AWS::StackName}-a'\n",
		"Resources:\n  A:\n    Type: AWS::Serverless::Function\n    Properties:\n      Environment:\n        Variables:\n          T: !Ref B\n  B:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      TableName: !GetAtt A.Arn\n",
		"Resources:\n  A: {Type: X, Properties: {P: !Join [',', [!Select [0, !Split [',', 'a,b']], !Ref AWS::Region]]}}\n",
		"Resources:\n  A: {Type: X, Properties: {P: !Ref A}}\n",
		"Resources:\n  A: {Type: X, Properties: {P: !Sub ['${x}', {x: !Sub '${y}'}]}}\n",
		"Globals:\n  Function: {Timeout: 3}\nResources: {}\n",
		"a: &x [*x]\n",
		"Resources:\n  A: {Type: AWS::ApiGatewayV2::Api, Properties: {ProtocolType: WEBSOCKET, RouteSelectionExpression: $request.body.action}}\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tpl, err := Parse(b)
		if err != nil {
			return
		}
		_, _ = tpl.Resolve(Env{StackName: "parley", Region: "us-east-1", AccountID: "000000000000", APIID: "parleylocal"})
	})
}
