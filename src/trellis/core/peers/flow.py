"""Maximum bipartite assignment at minimum cost (OR-Tools ``SimpleMinCostFlow``).

Used by circle matching and mentor pairing. The network is::

    source ─(cap 1, left_cost[i])→ left i ─(cap 1, cost)→ right j ─(cap right_cap[j], 0)→ sink

``solve_max_flow_with_min_cost`` first maximises the flow (the number of people placed), then
minimises the total cost among maximum flows, so a lexicographic objective below "place as many
as possible" is encoded in integer costs by the caller. Nodes and arcs are added in the caller's
order; callers sort by id first, which makes the result independent of input order.
"""

from __future__ import annotations

from collections.abc import Sequence

from ortools.graph.python import min_cost_flow

# OR-Tools' cost scaling multiplies unit costs by about the number of nodes; stay well inside
# int64 so that it never reports BAD_COST_RANGE.
_COST_LIMIT = 2**62


def max_assignment_min_cost(
    n_left: int,
    right_caps: Sequence[int],
    edges: Sequence[tuple[int, int, int]],
    left_costs: Sequence[int] | None = None,
) -> dict[int, int]:
    """Map left index → right index for a maximum assignment of least total cost.

    ``edges`` are ``(left, right, cost)`` with non-negative integer costs; each left node is
    assigned at most once and right node ``j`` at most ``right_caps[j]`` times.
    """
    if not edges or n_left == 0:
        return {}
    n_right = len(right_caps)
    source, sink = n_left + n_right, n_left + n_right + 1
    costs = list(left_costs) if left_costs is not None else [0] * n_left
    biggest = max([c for _, _, c in edges] + costs + [0])
    if biggest * (n_left + n_right + 3) >= _COST_LIMIT:
        raise ValueError("instance too large for integer costs")
    flow = min_cost_flow.SimpleMinCostFlow()
    for i in range(n_left):
        flow.add_arc_with_capacity_and_unit_cost(source, i, 1, costs[i])
    middle: list[tuple[int, int, int]] = []
    for left, right, cost in edges:
        arc = flow.add_arc_with_capacity_and_unit_cost(left, n_left + right, 1, cost)
        middle.append((arc, left, right))
    for j, cap in enumerate(right_caps):
        flow.add_arc_with_capacity_and_unit_cost(n_left + j, sink, max(0, cap), 0)
    # The solver moves at most the supplies: offer one unit per left node and let it find how
    # many can reach the sink (a maximum flow), at least cost among those.
    flow.set_node_supply(source, n_left)
    flow.set_node_supply(sink, -n_left)
    status = flow.solve_max_flow_with_min_cost()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow did not solve: status {status}")
    return {left: right for arc, left, right in middle if flow.flow(arc) > 0}
