"""The lecture's shopping example: backpropagation through a tiny computational graph.

Buy 2 apples at 100 won and 3 oranges at 150 won, with 10% tax:

    total = (apple * n_apple + orange * n_orange) * tax = (200 + 450) * 1.1 = 715

Backpropagation gives how much the total moves per unit change of every input:

    d total / d apple    = n_apple * tax  = 2.2      d total / d n_apple  = apple * tax  = 110
    d total / d orange   = n_orange * tax = 3.3      d total / d n_orange = orange * tax = 165
    d total / d tax      = 200 + 450      = 650

Run:  python docs/examples/shopping.py   (prints the numbers and the graph as DOT text; paste it
into any Graphviz viewer, or use gradus.viz.graph.render(total, "shopping.png") with Graphviz).
"""
import gradus
from gradus.viz.graph import to_dot


def main(verbose: bool = True):
    """Build the graph, backpropagate, print; return (total, {name: gradient}, dot_text)."""
    leaves = {"apple": 100.0, "n_apple": 2.0, "orange": 150.0, "n_orange": 3.0, "tax": 1.1}
    t = {}
    for name, value in leaves.items():
        t[name] = gradus.tensor(value, dtype=gradus.float64, requires_grad=True)
        t[name].name = name                      # labels the leaf in the picture

    apple_price = t["apple"] * t["n_apple"]      # 200
    orange_price = t["orange"] * t["n_orange"]   # 450
    all_price = apple_price + orange_price       # 650
    total = all_price * t["tax"]                 # 715
    total.name = "total"
    total.backward()

    grads = {name: t[name].grad.item() for name in leaves}
    dot = to_dot(total, show_values=True, show_grads=True)
    if verbose:
        print(f"total = {total.item():.1f}")
        for name, g in grads.items():
            print(f"d total / d {name:<8} = {g:g}")
        print(dot)
    return total.item(), grads, dot


if __name__ == "__main__":
    main()
