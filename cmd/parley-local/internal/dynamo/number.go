package dynamo

import (
	"math/big"
	"strings"
)

// decimal is a DynamoDB number: ±0.digits × 10^exp, exactly. digits has no
// leading or trailing zeros; zero has no digits. DynamoDB keeps up to 38
// significant digits and magnitudes from 1E-130 to below 1E126, and so does
// every number here: none passes through float64.
type decimal struct {
	neg    bool
	digits string
	exp    int
}

const (
	maxNumberDigits = 38
	minNumberExp    = -129 // 1E-130 is 0.1 × 10^-129
	maxNumberExp    = 126  // 9.99…E+125 is 0.999… × 10^126
)

const (
	errNumberDigits    = "Attempting to store more than 38 significant digits in a Number"
	errNumberOverflow  = "Number overflow. Attempting to store a number with magnitude larger than supported range"
	errNumberUnderflow = "Number underflow. Attempting to store a number with magnitude smaller than supported range"
)

// parseDecimal reads a number as DynamoDB accepts it: an optional sign,
// digits with at most one point, an optional exponent.
func parseDecimal(s string) (decimal, bool) {
	var d decimal
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		d.neg = s[i] == '-'
		i++
	}
	var mant strings.Builder
	point, seenDigit, seenPoint := 0, false, false
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			seenDigit = true
			mant.WriteByte(c)
			if seenPoint {
				point++
			}
		case c == '.' && !seenPoint:
			seenPoint = true
		default:
			goto exponent
		}
	}
exponent:
	if !seenDigit {
		return decimal{}, false
	}
	exp := 0
	if i < len(s) {
		if s[i] != 'e' && s[i] != 'E' {
			return decimal{}, false
		}
		i++
		eneg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			eneg = s[i] == '-'
			i++
		}
		if i == len(s) {
			return decimal{}, false
		}
		for ; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return decimal{}, false
			}
			if exp < 1e6 {
				exp = exp*10 + int(s[i]-'0')
			}
		}
		if eneg {
			exp = -exp
		}
	}
	m := mant.String()
	lead := len(m) - len(strings.TrimLeft(m, "0"))
	m = m[lead:]
	// value = 0.m × 10^(len(m) - point + exp), once leading zeros are gone
	d.exp = len(m) - point + exp
	m = strings.TrimRight(m, "0")
	if m == "" {
		return decimal{}, true
	}
	d.digits = m
	return d, true
}

// check reports why DynamoDB would refuse to store d ("" when it fits).
func (d decimal) check() string {
	switch {
	case d.digits == "":
		return ""
	case len(d.digits) > maxNumberDigits:
		return errNumberDigits
	case d.exp > maxNumberExp:
		return errNumberOverflow
	case d.exp < minNumberExp:
		return errNumberUnderflow
	}
	return ""
}

// String spells d as DynamoDB returns numbers: plain digits, no exponent,
// no leading or trailing zeros.
func (d decimal) String() string {
	if d.digits == "" {
		return "0"
	}
	var b strings.Builder
	if d.neg {
		b.WriteByte('-')
	}
	switch {
	case d.exp <= 0:
		b.WriteString("0.")
		b.WriteString(strings.Repeat("0", -d.exp))
		b.WriteString(d.digits)
	case d.exp >= len(d.digits):
		b.WriteString(d.digits)
		b.WriteString(strings.Repeat("0", d.exp-len(d.digits)))
	default:
		b.WriteString(d.digits[:d.exp])
		b.WriteByte('.')
		b.WriteString(d.digits[d.exp:])
	}
	return b.String()
}

// cmpDecimal orders two numbers by value.
func cmpDecimal(a, b decimal) int {
	sign := func(d decimal) int {
		switch {
		case d.digits == "":
			return 0
		case d.neg:
			return -1
		}
		return 1
	}
	sa, sb := sign(a), sign(b)
	if sa != sb || sa == 0 {
		return cmpInt(sa, sb)
	}
	c := cmpInt(a.exp, b.exp)
	if c == 0 {
		c = strings.Compare(a.digits, b.digits)
	}
	return c * sa
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// coefficient is d as an integer c and a power e with d = c × 10^e.
func (d decimal) coefficient() (*big.Int, int) {
	c, _ := new(big.Int).SetString(d.digits, 10)
	if c == nil {
		c = new(big.Int)
	}
	if d.neg {
		c.Neg(c)
	}
	return c, d.exp - len(d.digits)
}

// fromCoefficient is c × 10^e as a decimal.
func fromCoefficient(c *big.Int, e int) decimal {
	s := c.String()
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	if s == "0" {
		return decimal{}
	}
	t := strings.TrimRight(s, "0")
	return decimal{neg: neg, digits: t, exp: e + len(s)}
}

// addDecimal is a + b, exactly; the caller checks the result fits.
func addDecimal(a, b decimal) decimal {
	if a.digits == "" {
		return b
	}
	if b.digits == "" {
		return a
	}
	ca, ea := a.coefficient()
	cb, eb := b.coefficient()
	ten := big.NewInt(10)
	for ea > eb {
		ca.Mul(ca, ten)
		ea--
	}
	for eb > ea {
		cb.Mul(cb, ten)
		eb--
	}
	return fromCoefficient(ca.Add(ca, cb), ea)
}

func (d decimal) negate() decimal {
	if d.digits != "" {
		d.neg = !d.neg
	}
	return d
}

// numberSize is what a number counts toward an item's size: DynamoDB
// stores numbers in a base-100 form, about one byte per two significant
// digits plus one.
func numberSize(s string) int {
	d, ok := parseDecimal(s)
	if !ok {
		return 0
	}
	return (len(d.digits)+1)/2 + 1
}
