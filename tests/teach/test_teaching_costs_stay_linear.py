"""The teaching tools at sizes where their old costs took minutes or ran out of memory (issue 23):
each runs in a child process bounded in time and memory (tests/limits.py), and its output is
checked, so the work is really done. The figures, before and after: benchmarks/README.md."""

from limits import run_limited


def test_check_reads_and_checks_20000_equations():
    # The equations were parsed each with every name defined so far: 10,000 took 24 s.
    out = run_limited("""
from autograd.teach.handcheck import check_by_hand
from autograd.teach.worksheet import from_problem
n = 20_000
eqs = ["x0 = a*b", *(f"x{i} = x{i - 1}*a + b" for i in range(1, n))]
root = from_problem({"expression": eqs, "values": {"a": 0.5, "b": 1.0}})
report = check_by_hand(root, {"x1.data": 1.25, f"x{n - 1}.data": root.data,
                              f"dx{n - 1}/db": 1.0, "b": -1.0})
print(len(report.marks), *(f"{m.key}={m.ok}" for m in report.marks))
""", seconds=45)
    assert out.split() == ["4", "x1.data=True", "x19999.data=True", "dx19999/db=True",
                           "b=False"]


def test_a_wrong_gradient_of_a_node_used_3000_times_is_diagnosed():
    # Looking for the path left out was cubic in the uses: 3,000 took 100 s.
    out = run_limited("""
from autograd import Value, check_by_hand
a, b = Value(2.0, "a"), Value(1.0, "b")
h = a + b
h.label = "h"
cs = [1.0 + (i % 7) / 10 for i in range(3000)]
cs[1234] = 500.0
products = [h * Value(c, f"c{i}") for i, c in enumerate(cs)]
for i, p in enumerate(products):
    p.label = f"p{i}"
L = Value.sum(products)
L.label = "L"
junk = check_by_hand(L, {"h": 12345.6})["h"]
missing = check_by_hand(L, {"h": sum(cs) - cs[1234]})["h"]
print(junk.diagnosis.name, missing.diagnosis.name, missing.blame, len(missing.message))
""", seconds=30)
    junk, missing, blame, length = out.split(maxsplit=3)
    assert junk == "WRONG" and missing == "MISSING_PATH"
    assert blame == "('p1234',)"
    assert int(length.split(")")[-1]) < 1000  # the message lists a few of the 3,000 terms


def test_many_unknown_keys_against_many_nodes_get_a_bounded_error():
    # "did you mean" compared every key with every name and listed every name in each
    # message: keys x nodes in time and memory (33 s and 529 MB).
    out = run_limited("""
from autograd import Value, check_by_hand
from autograd.teach.handcheck import AnswerError
x = Value(0.5, "node0")
for i in range(1, 10_000):
    x = x * 0.999
    x.label = f"node{i}"
try:
    check_by_hand(x, {f"nod{i}e": 1.0 for i in range(3_000)})
except AnswerError as e:
    text = str(e)
print(len(text), text.count("did you mean"), "did you mean node17" in text, "2,980 more" in text)
""", seconds=30, megabytes=512)
    length, suggested, found, more = out.split()
    assert int(length) < 20_000 and int(suggested) == 20 and found == "True" and more == "True"


def test_the_worksheet_of_a_sum_of_10000_products():
    # Each gradient row searched the whole graph for the node's consumers: quadratic.
    out = run_limited("""
from autograd import Value, worksheet
a = Value(0.5, "a")
L = Value.sum([Value(0.1 * (i % 10), f"x{i}") * a for i in range(10_000)])
L.label = "L"
sheet = worksheet(L)
rows = {r.key: r for r in sheet.rows}
print(len(sheet.rows), rows["a"].answer, rows["a"].how.count("·"), len(sheet.markdown(key=True)))
""", seconds=60)
    n_rows, grad_a, terms, _ = out.split()
    # 10,000 products and L as values, 2 locals per product and 1 per sum edge, 20,001 grads.
    assert int(n_rows) == 10_001 + 30_000 + 20_001
    assert float(grad_a) == sum(0.1 * (i % 10) for i in range(10_000))
    assert int(terms) == 10_000


def test_explain_through_a_sum_of_40000_products():
    # Each edge's formula copied the sum's 40,000 operands: quadratic.
    out = run_limited("""
from autograd import Value, explain
a = Value(0.5, "a")
L = Value.sum([Value(0.1 * (i % 10), f"x{i}") * a for i in range(40_000)])
L.label = "L"
x = explain(L, a)
print(x.count, len(x.nodes), x.total, len(x.text()))
""", seconds=60)
    count, nodes, total, _ = out.split()
    assert int(count) == 40_000 and int(nodes) == 40_001
    assert float(total) == sum(0.1 * (i % 10) for i in range(40_000))
