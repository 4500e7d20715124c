package dynamo

import (
	"fmt"
	"strconv"
	"strings"
)

// DynamoDB's expression language, parsed: condition, filter and key
// condition expressions into conditions, update expressions into actions,
// projection expressions into document paths. Names (#n) and values (:v)
// are resolved while parsing, and the parser makes the checks DynamoDB
// makes before it looks at any item: syntax, reserved words, undefined and
// unused names and values, function placement, document path depth, the
// size and operator limits, redundant parentheses, and type errors that
// the values alone show.

const (
	maxExpressionBytes = 4096
	maxOperators       = 300
	maxPathDepth       = 32
)

// pathElem is one step of a document path: a name, or an index into a list.
type pathElem struct {
	name  string
	index int
	isIdx bool
}

// docPath is a document path, "m.k[2]".
type docPath []pathElem

func (p docPath) String() string {
	var b strings.Builder
	for i, e := range p {
		switch {
		case e.isIdx:
			fmt.Fprintf(&b, "[%d]", e.index)
		case i > 0:
			b.WriteString("." + e.name)
		default:
			b.WriteString(e.name)
		}
	}
	return b.String()
}

// list spells a path as DynamoDB's overlap message does: "[m, k]".
func (p docPath) list() string {
	parts := make([]string, len(p))
	for i, e := range p {
		if e.isIdx {
			parts[i] = "[" + strconv.Itoa(e.index) + "]"
		} else {
			parts[i] = e.name
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// conflicts reports two paths that reach one place, one as a map and the
// other as a list ("a.b" and "a[1]").
func (p docPath) conflicts(q docPath) bool {
	n := min(len(p), len(q))
	for i := range n {
		if p[i] != q[i] {
			return p[i].isIdx != q[i].isIdx
		}
	}
	return false
}

// overlaps reports two paths that are the same or one inside the other.
func (p docPath) overlaps(q docPath) bool {
	n := min(len(p), len(q))
	for i := range n {
		if p[i] != q[i] {
			return false
		}
	}
	return true
}

// operand kinds.
const (
	opPath = iota
	opValue
	opSize
	opIfNotExists
	opListAppend
	opPlus
	opMinus
)

// operand is a value in an expression: a path, a :value, a function of
// operands, or (in SET) a sum or difference.
type operand struct {
	kind int
	path docPath
	val  dvalue
	ref  string // ":v", for messages
	args []*operand
}

// condition kinds.
const (
	condOr = iota
	condAnd
	condNot
	condCompare
	condBetween
	condIn
	condFunc
)

// condition is a condition, filter or key condition expression, or one
// legacy condition.
type condition struct {
	kind int
	op   string // comparator, function name, or legacy operator
	sub  []*condition
	args []*operand
	// legacy marks conditions built from Expected, QueryFilter and the like,
	// which compare across types and treat missing attributes their own way.
	legacy bool
}

// update actions.
const (
	actSet = iota
	actRemove
	actAdd
	actDelete
)

type action struct {
	kind   int
	path   docPath
	value  *operand
	legacy bool // from AttributeUpdates, whose type errors DynamoDB words its own way
}

// exprContext resolves an expression's names and values and remembers
// which the request used, to refuse unused ones.
type exprContext struct {
	names     map[string]string
	values    ditem
	usedNames map[string]bool
	usedVals  map[string]bool
}

func newExprContext(names map[string]string, values ditem) *exprContext {
	return &exprContext{names: names, values: values, usedNames: map[string]bool{}, usedVals: map[string]bool{}}
}

// unused refuses names and values no expression of the request used.
func (c *exprContext) unused() *apiError {
	var vals, names []string
	for k := range c.values {
		if !c.usedVals[k] {
			vals = append(vals, k)
		}
	}
	for k := range c.names {
		if !c.usedNames[k] {
			names = append(names, k)
		}
	}
	if len(vals) > 0 {
		return validation("Value provided in ExpressionAttributeValues unused in expressions: keys: {%s}", strings.Join(sortedStrings(vals), ", "))
	}
	if len(names) > 0 {
		return validation("Value provided in ExpressionAttributeNames unused in expressions: keys: {%s}", strings.Join(sortedStrings(names), ", "))
	}
	return nil
}

// token kinds.
const (
	tEOF = iota
	tIdent
	tName
	tValue
	tNumber
	tLParen
	tRParen
	tLBracket
	tRBracket
	tComma
	tDot
	tCmp
	tPlus
	tMinus
	tBad
)

type token struct {
	kind int
	text string
	pos  int
}

func lex(s string) []token {
	var out []token
	isWord := func(c byte) bool {
		return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
			continue
		case c == '#' || c == ':':
			j := i + 1
			for j < len(s) && isWord(s[j]) {
				j++
			}
			k := tName
			if c == ':' {
				k = tValue
			}
			if j == i+1 {
				k = tBad
			}
			out = append(out, token{k, s[i:j], i})
			i = j
			continue
		case c >= '0' && c <= '9':
			j := i
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			if j < len(s) && isWord(s[j]) {
				for j < len(s) && isWord(s[j]) {
					j++
				}
				out = append(out, token{tBad, s[i:j], i})
			} else {
				out = append(out, token{tNumber, s[i:j], i})
			}
			i = j
			continue
		case isWord(c):
			j := i
			for j < len(s) && isWord(s[j]) {
				j++
			}
			out = append(out, token{tIdent, s[i:j], i})
			i = j
			continue
		}
		k, n := tBad, 1
		switch c {
		case '(':
			k = tLParen
		case ')':
			k = tRParen
		case '[':
			k = tLBracket
		case ']':
			k = tRBracket
		case ',':
			k = tComma
		case '.':
			k = tDot
		case '+':
			k = tPlus
		case '-':
			k = tMinus
		case '=':
			k = tCmp
		case '<':
			k = tCmp
			if i+1 < len(s) && (s[i+1] == '=' || s[i+1] == '>') {
				n = 2
			}
		case '>':
			k = tCmp
			if i+1 < len(s) && s[i+1] == '=' {
				n = 2
			}
		}
		out = append(out, token{k, s[i : i+n], i})
		i += n
	}
	return append(out, token{tEOF, "", len(s)})
}

// parser reads one expression of the kind field names ("ConditionExpression").
type parser struct {
	field string
	src   string
	toks  []token
	pos   int
	ctx   *exprContext
	ops   int // operators and functions, against maxOperators
	err   *apiError
}

func newParser(field, src string, ctx *exprContext) *parser {
	return &parser{field: field, src: src, toks: lex(src), ctx: ctx}
}

func (p *parser) peek() token { return p.toks[p.pos] }

func (p *parser) next() token {
	t := p.toks[p.pos]
	if p.pos < len(p.toks)-1 {
		p.pos++
	}
	return t
}

// fail records the first error; parsing stops at it.
func (p *parser) fail(format string, args ...any) {
	if p.err == nil {
		p.err = validation("Invalid %s: %s", p.field, fmt.Sprintf(format, args...))
	}
}

func (p *parser) syntax(t token) {
	if t.kind == tEOF {
		p.fail("Syntax error; token: \"<EOF>\", near: \"%s\"", p.near(t))
		return
	}
	p.fail("Syntax error; token: \"%s\", near: \"%s\"", t.text, p.near(t))
}

// near is the text around a token, as DynamoDB quotes it.
func (p *parser) near(t token) string {
	start := t.pos
	for i, x := range p.toks {
		if x.pos == t.pos && i > 0 {
			start = p.toks[i-1].pos
		}
	}
	end := min(len(p.src), t.pos+len(t.text))
	if start > end {
		start = end
	}
	return p.src[start:end]
}

func (p *parser) expect(kind int) token {
	t := p.next()
	if t.kind != kind {
		p.syntax(t)
	}
	return t
}

func (p *parser) keyword(t token, word string) bool {
	return t.kind == tIdent && strings.EqualFold(t.text, word)
}

func (p *parser) count() {
	p.ops++
	if p.ops == maxOperators+1 {
		p.fail("The expression contains too many operators; operator count: %d", p.ops)
	}
}

// checkSize applies the 4 KB limit on one expression.
func checkSize(field, expr string) *apiError {
	if len(expr) > maxExpressionBytes {
		return validation("Invalid %s: Expression size has exceeded the maximum allowed size; expression size: %d", field, len(expr))
	}
	return nil
}

// parseCondition reads a condition, filter or key condition expression.
func parseCondition(field, expr string, ctx *exprContext) (*condition, *apiError) {
	if err := checkSize(field, expr); err != nil {
		return nil, err
	}
	if strings.TrimSpace(expr) == "" {
		return nil, validation("Invalid %s: The expression can not be empty;", field)
	}
	p := newParser(field, expr, ctx)
	c := p.orExpr()
	if p.err == nil && p.peek().kind != tEOF {
		p.syntax(p.peek())
	}
	if p.err != nil {
		return nil, p.err
	}
	if err := staticCheck(field, c); err != nil {
		return nil, err
	}
	return c, nil
}

func (p *parser) orExpr() *condition {
	c := p.andExpr()
	for p.err == nil && p.keyword(p.peek(), "OR") {
		p.next()
		p.count()
		c = &condition{kind: condOr, sub: []*condition{c, p.andExpr()}}
	}
	return c
}

func (p *parser) andExpr() *condition {
	c := p.notExpr()
	for p.err == nil && p.keyword(p.peek(), "AND") {
		p.next()
		p.count()
		c = &condition{kind: condAnd, sub: []*condition{c, p.notExpr()}}
	}
	return c
}

func (p *parser) notExpr() *condition {
	if p.keyword(p.peek(), "NOT") {
		p.next()
		p.count()
		return &condition{kind: condNot, sub: []*condition{p.notExpr()}}
	}
	return p.primary()
}

var (
	conditionFuncs = map[string]int{"attribute_exists": 1, "attribute_not_exists": 1, "attribute_type": 2, "begins_with": 2, "contains": 2}
	updateFuncs    = map[string]int{"if_not_exists": 2, "list_append": 2}
)

func (p *parser) primary() *condition {
	if p.err != nil {
		return &condition{}
	}
	t := p.peek()
	if t.kind == tLParen {
		p.next()
		inner := p.peek()
		c := p.orExpr()
		p.expect(tRParen)
		if inner.kind == tLParen && p.err == nil && p.toks[p.pos-2].kind == tRParen && isWrapped(p.toks, inner) {
			p.fail("The expression has redundant parentheses;")
		}
		return c
	}
	if t.kind == tIdent && t.text[0] == '_' {
		p.next()
		p.syntax(t)
		return &condition{}
	}
	if t.kind == tIdent && p.toks[p.pos+1].kind == tLParen {
		if n, ok := conditionFuncs[t.text]; ok {
			p.next()
			p.count()
			args := p.args(t.text)
			if p.err == nil && len(args) != n {
				p.fail("Incorrect number of operands for operator or function; operator or function: %s, number of operands: %d", t.text, len(args))
			}
			return &condition{kind: condFunc, op: t.text, args: args}
		}
		if _, ok := updateFuncs[t.text]; ok {
			p.fail("The function is not allowed in a condition expression; function: %s", t.text)
			return &condition{}
		}
		if t.text != "size" {
			p.fail("Invalid function name; function: %s", t.text)
			return &condition{}
		}
	}
	left := p.operand(false)
	if p.err != nil {
		return &condition{}
	}
	t = p.next()
	switch {
	case t.kind == tCmp:
		p.count()
		right := p.operand(false)
		return &condition{kind: condCompare, op: t.text, args: []*operand{left, right}}
	case p.keyword(t, "BETWEEN"):
		p.count()
		lo := p.operand(false)
		if !p.keyword(p.next(), "AND") && p.err == nil {
			p.syntax(p.toks[p.pos-1])
		}
		hi := p.operand(false)
		return &condition{kind: condBetween, args: []*operand{left, lo, hi}}
	case p.keyword(t, "IN"):
		p.count()
		p.expect(tLParen)
		args := []*operand{left}
		for p.err == nil {
			args = append(args, p.operand(false))
			if p.peek().kind != tComma {
				break
			}
			p.next()
		}
		p.expect(tRParen)
		if p.err == nil && len(args) > 101 {
			p.fail("The IN operator is provided with too many operands; number of operands: %d", len(args)-1)
		}
		return &condition{kind: condIn, args: args}
	}
	if left.kind == opSize && p.err == nil {
		p.fail("The function is not allowed to be used this way in an expression; function: size")
		return &condition{}
	}
	p.syntax(t)
	return &condition{}
}

// isWrapped reports whether the parenthesized expression starting at open
// runs to the parenthesis just before the current one: "((x))".
func isWrapped(toks []token, open token) bool {
	depth := 0
	for i, t := range toks {
		if t.pos < open.pos {
			continue
		}
		switch t.kind {
		case tLParen:
			depth++
		case tRParen:
			depth--
			if depth == 0 {
				return i+1 < len(toks) && toks[i+1].kind == tRParen
			}
		}
	}
	return false
}

// args reads a function's parenthesized operands.
func (p *parser) args(fn string) []*operand {
	p.expect(tLParen)
	var out []*operand
	if p.peek().kind == tRParen {
		p.next()
		return out
	}
	for p.err == nil {
		out = append(out, p.operand(fn == "if_not_exists" || fn == "list_append"))
		if p.peek().kind != tComma {
			break
		}
		p.next()
	}
	p.expect(tRParen)
	return out
}

// operand reads a path, a value or a function of operands; inUpdate allows
// the update functions.
func (p *parser) operand(inUpdate bool) *operand {
	if p.err != nil {
		return &operand{}
	}
	t := p.peek()
	switch t.kind {
	case tValue:
		p.next()
		v, ok := p.ctx.values[t.text]
		if !ok {
			p.fail("An expression attribute value used in expression is not defined; attribute value: %s", t.text)
			return &operand{}
		}
		p.ctx.usedVals[t.text] = true
		return &operand{kind: opValue, val: v, ref: t.text}
	case tIdent, tName:
		if t.kind == tIdent && t.text[0] == '_' {
			p.next()
			p.syntax(t)
			return &operand{}
		}
		if t.kind == tIdent && p.toks[p.pos+1].kind == tLParen {
			p.next()
			fn := t.text
			switch {
			case fn == "size" && inUpdate:
				p.fail("The function is not allowed in an update expression; function: size")
			case fn == "size":
				p.count()
				args := p.args(fn)
				if p.err == nil && len(args) != 1 {
					p.fail("Incorrect number of operands for operator or function; operator or function: size, number of operands: %d", len(args))
				}
				return &operand{kind: opSize, args: args}
			case updateFuncs[fn] > 0 && inUpdate:
				p.count()
				args := p.args(fn)
				if p.err == nil && len(args) != 2 {
					p.fail("Incorrect number of operands for operator or function; operator or function: %s, number of operands: %d", fn, len(args))
				}
				k := opListAppend
				if fn == "if_not_exists" {
					k = opIfNotExists
					if p.err == nil && args[0].kind != opPath {
						p.fail("Operator or function requires a document path; operator or function: if_not_exists")
					}
				}
				return &operand{kind: k, args: args}
			case updateFuncs[fn] > 0:
				p.fail("The function is not allowed in a condition expression; function: %s", fn)
			case conditionFuncs[fn] > 0 && inUpdate:
				p.fail("The function is not allowed in an update expression; function: %s", fn)
			case conditionFuncs[fn] > 0:
				p.fail("The function is not allowed to be used this way in an expression; function: %s", fn)
			default:
				p.fail("Invalid function name; function: %s", fn)
			}
			return &operand{}
		}
		return &operand{kind: opPath, path: p.path()}
	}
	p.next()
	p.syntax(t)
	return &operand{}
}

// path reads a document path.
func (p *parser) path() docPath {
	var out docPath
	elem := func() {
		t := p.next()
		switch t.kind {
		case tIdent:
			if isReserved(t.text) {
				p.fail("Attribute name is a reserved keyword; reserved keyword: %s", t.text)
				return
			}
			if c := t.text[0]; c >= '0' && c <= '9' || c == '_' {
				p.syntax(t)
				return
			}
			out = append(out, pathElem{name: t.text})
		case tName:
			name, ok := p.ctx.names[t.text]
			if !ok {
				p.fail("An expression attribute name used in the document path is not defined; attribute name: %s", t.text)
				return
			}
			p.ctx.usedNames[t.text] = true
			out = append(out, pathElem{name: name})
		default:
			p.syntax(t)
		}
	}
	elem()
	for p.err == nil {
		switch p.peek().kind {
		case tDot:
			p.next()
			elem()
			continue
		case tLBracket:
			p.next()
			t := p.next()
			if t.kind != tNumber {
				p.syntax(t)
				return out
			}
			n, err := strconv.ParseInt(t.text, 10, 32)
			if err != nil {
				p.fail("List index is not within the allowable range; index: [%s]", t.text)
				return out
			}
			p.expect(tRBracket)
			out = append(out, pathElem{index: int(n), isIdx: true})
			continue
		}
		break
	}
	if p.err == nil && len(out) > maxPathDepth {
		p.fail("The document path has too many nesting levels; nesting levels: %d", len(out))
	}
	return out
}

// parseUpdate reads an update expression into its actions, in order.
func parseUpdate(expr string, ctx *exprContext) ([]action, *apiError) {
	const field = "UpdateExpression"
	if err := checkSize(field, expr); err != nil {
		return nil, err
	}
	if strings.TrimSpace(expr) == "" {
		return nil, validation("Invalid UpdateExpression: The expression can not be empty;")
	}
	p := newParser(field, expr, ctx)
	var out []action
	seen := map[string]bool{}
	for p.err == nil && p.peek().kind != tEOF {
		t := p.next()
		clause := strings.ToUpper(t.text)
		kinds := map[string]int{"SET": actSet, "REMOVE": actRemove, "ADD": actAdd, "DELETE": actDelete}
		k, ok := kinds[clause]
		if t.kind != tIdent || !ok {
			p.syntax(t)
			break
		}
		if seen[clause] {
			p.fail("The \"%s\" section can only be used once in an update expression;", clause)
			break
		}
		seen[clause] = true
		for p.err == nil {
			a := action{kind: k}
			a.path = p.path()
			switch k {
			case actSet:
				p.expect(tCmp)
				if p.err == nil && p.toks[p.pos-1].text != "=" {
					p.syntax(p.toks[p.pos-1])
				}
				a.value = p.setValue()
			case actAdd, actDelete:
				v := p.peek()
				if v.kind != tValue {
					p.next()
					p.syntax(v)
					break
				}
				a.value = p.operand(false)
			}
			out = append(out, a)
			if p.peek().kind != tComma {
				break
			}
			p.next()
		}
	}
	if p.err != nil {
		return nil, p.err
	}
	for i, a := range out {
		for _, b := range out[i+1:] {
			if a.path.conflicts(b.path) {
				return nil, validation("Invalid UpdateExpression: Two document paths conflict with each other; must remove or rewrite one of these paths; path one: %s, path two: %s", a.path.list(), b.path.list())
			}
			if a.path.overlaps(b.path) {
				return nil, validation("Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: %s, path two: %s", a.path.list(), b.path.list())
			}
		}
	}
	for _, a := range out {
		if err := staticUpdateCheck(a); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// setValue reads SET's right-hand side: an operand, or two joined by + or -.
func (p *parser) setValue() *operand {
	left := p.operand(true)
	switch p.peek().kind {
	case tPlus, tMinus:
		t := p.next()
		p.count()
		right := p.operand(true)
		k := opPlus
		if t.kind == tMinus {
			k = opMinus
		}
		return &operand{kind: k, args: []*operand{left, right}}
	}
	return left
}

// parseProjection reads a projection expression into its paths.
func parseProjection(expr string, ctx *exprContext) ([]docPath, *apiError) {
	const field = "ProjectionExpression"
	if err := checkSize(field, expr); err != nil {
		return nil, err
	}
	if strings.TrimSpace(expr) == "" {
		return nil, validation("Invalid ProjectionExpression: The expression can not be empty;")
	}
	p := newParser(field, expr, ctx)
	var out []docPath
	for p.err == nil {
		t := p.peek()
		if t.kind != tIdent && t.kind != tName {
			p.next()
			p.syntax(t)
			break
		}
		out = append(out, p.path())
		if p.peek().kind != tComma {
			break
		}
		p.next()
	}
	if p.err == nil && p.peek().kind != tEOF {
		p.syntax(p.peek())
	}
	if p.err != nil {
		return nil, p.err
	}
	for i, a := range out {
		for _, b := range out[i+1:] {
			if a.conflicts(b) {
				return nil, validation("Invalid ProjectionExpression: Two document paths conflict with each other; must remove or rewrite one of these paths; path one: %s, path two: %s", a.list(), b.list())
			}
			if a.overlaps(b) {
				return nil, validation("Invalid ProjectionExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: %s, path two: %s", a.list(), b.list())
			}
		}
	}
	return out, nil
}

// staticCheck refuses what the values of a condition show to be wrong
// before any item is read: functions of the wrong kind of operand, sizes
// of values that have none, comparisons of types that have no order, and
// BETWEEN bounds of two types or in the wrong order.
func staticCheck(field string, c *condition) *apiError {
	bad := func(fn string, k kind) *apiError {
		return validation("Invalid %s: Incorrect operand type for operator or function; operator or function: %s, operand type: %s", field, fn, k)
	}
	var checkOperand func(o *operand) *apiError
	checkOperand = func(o *operand) *apiError {
		if o.kind == opSize && len(o.args) == 1 {
			a := o.args[0]
			if a.kind == opSize {
				return bad("size", kindN)
			}
			if a.kind == opValue {
				switch a.val.k {
				case kindS, kindB, kindSS, kindNS, kindBS, kindL, kindM:
				default:
					return bad("size", a.val.k)
				}
			}
			return checkOperand(a)
		}
		return nil
	}
	switch c.kind {
	case condOr, condAnd, condNot:
		for _, s := range c.sub {
			if err := staticCheck(field, s); err != nil {
				return err
			}
		}
		return nil
	}
	for _, o := range c.args {
		if err := checkOperand(o); err != nil {
			return err
		}
	}
	switch c.kind {
	case condCompare:
		if c.op == "=" || c.op == "<>" {
			return nil
		}
		for _, o := range c.args {
			if o.kind == opValue && !orderable(o.val.k) {
				return bad(c.op, o.val.k)
			}
		}
	case condBetween:
		lo, hi := c.args[1], c.args[2]
		for _, o := range c.args {
			if o.kind == opValue && !orderable(o.val.k) {
				return bad("BETWEEN", o.val.k)
			}
		}
		if lo.kind == opValue && hi.kind == opValue {
			if lo.val.k != hi.val.k {
				return validation("Invalid %s: The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: AttributeValue: {%s:%s}, upper bound operand: AttributeValue: {%s:%s}",
					field, lo.val.k, lo.val.s, hi.val.k, hi.val.s)
			}
			if compareScalars(lo.val, hi.val) > 0 {
				return validation("Invalid %s: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {%s:%s}, upper bound operand: AttributeValue: {%s:%s}",
					field, lo.val.k, lo.val.s, hi.val.k, hi.val.s)
			}
		}
	case condFunc:
		switch c.op {
		case "attribute_exists", "attribute_not_exists", "attribute_type":
			if c.op != "attribute_type" && c.args[0].kind != opPath {
				return validation("Invalid %s: Operator or function requires a document path; operator or function: %s", field, c.op)
			}
			if c.op == "attribute_type" {
				t := c.args[1]
				if t.kind != opValue || t.val.k != kindS {
					k := kindNone
					if t.kind == opValue {
						k = t.val.k
					}
					return bad("attribute_type", k)
				}
				if kindOf(t.val.s) == kindNone {
					return validation("Invalid %s: Invalid attribute type name found; type: %s, valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}", field, t.val.s)
				}
			}
		case "begins_with":
			for _, o := range c.args {
				if o.kind == opValue && o.val.k != kindS && o.val.k != kindB {
					return bad("begins_with", o.val.k)
				}
			}
		}
	}
	return nil
}

func orderable(k kind) bool { return k == kindS || k == kindN || k == kindB }

// staticUpdateCheck refuses the update actions whose values alone are of
// the wrong type.
func staticUpdateCheck(a action) *apiError {
	switch a.kind {
	case actAdd:
		if k := a.value.val.k; k != kindN && !k.isSet() {
			return validation("Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: %s, typeSet: ALLOWED_FOR_ADD_OPERAND", longKind(k))
		}
	case actDelete:
		if k := a.value.val.k; !k.isSet() {
			return validation("Invalid UpdateExpression: Incorrect operand type for operator or function; operator: DELETE, operand type: %s, typeSet: ALLOWED_FOR_DELETE_OPERAND", longKind(k))
		}
	case actSet:
		var check func(o *operand) *apiError
		check = func(o *operand) *apiError {
			for _, x := range o.args {
				if err := check(x); err != nil {
					return err
				}
			}
			if o.kind == opListAppend {
				for _, x := range o.args {
					if x.kind == opValue && x.val.k != kindL {
						return validation("Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: list_append, operand type: %s", x.val.k)
					}
				}
			}
			if o.kind == opPlus || o.kind == opMinus {
				for _, x := range o.args {
					if x.kind == opValue && x.val.k != kindN {
						return validation("Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: %s, operand type: %s", map[int]string{opPlus: "+", opMinus: "-"}[o.kind], x.val.k)
					}
				}
			}
			return nil
		}
		return check(a.value)
	}
	return nil
}

// longKind is a type as ADD's and DELETE's messages spell it.
func longKind(k kind) string {
	return map[kind]string{kindS: "STRING", kindN: "NUMBER", kindB: "BINARY", kindBOOL: "BOOLEAN", kindNULL: "NULL", kindSS: "STRING_SET",
		kindNS: "NUMBER_SET", kindBS: "BINARY_SET", kindL: "LIST", kindM: "MAP"}[k]
}

func sortedStrings(xs []string) []string {
	out := append([]string(nil), xs...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}
