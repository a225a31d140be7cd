"""Look-ups over the directory: units and agencies at a date, supervisors, paths, successions, attributes.

A :class:`Directory` is built from records (see :mod:`casereg.directory.files` to read them) and does no I/O: it is
checked once at construction and answers from in-memory indexes afterwards.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date

from casereg.directory.model import (
    Agency,
    AgencyKind,
    Level,
    RemoteDifficult,
    Succession,
    Transfer,
    Unit,
    day_before,
)
from casereg.directory.problems import InvalidDirectory, NotFound
from casereg.directory.validate import validate


@dataclass(frozen=True, slots=True)
class Link:
    """A unit on the other side of a reform, and whether all of the old unit went into the new one."""

    unit: Unit
    transfer: Transfer


def _start_key(unit: Unit) -> date:
    return unit.period.start or date.min


class Directory:
    """Administrative units of the whole country over time, and the agencies of one or more provinces."""

    def __init__(
        self,
        units: Iterable[Unit],
        agencies: Iterable[Agency] = (),
        successions: Iterable[Succession] = (),
        remote_difficult: Iterable[RemoteDifficult] = (),
        *,
        check: bool = True,
    ) -> None:
        self._unit_list = tuple(units)
        self._agency_list = tuple(agencies)
        self._succession_list = tuple(successions)
        self._remote_list = tuple(remote_difficult)
        if check:
            problems = validate(self._unit_list, self._agency_list, self._succession_list, self._remote_list)
            if problems:
                raise InvalidDirectory(problems)

        versions: dict[str, list[Unit]] = defaultdict(list)
        children: dict[str, list[Unit]] = defaultdict(list)
        for unit in self._unit_list:
            versions[unit.code].append(unit)
            if unit.parent is not None:
                children[unit.parent].append(unit)
        self._versions = {code: tuple(sorted(vs, key=_start_key)) for code, vs in versions.items()}
        self._children = {code: tuple(sorted(cs, key=lambda u: u.code)) for code, cs in children.items()}

        self._agencies = {a.id: a for a in self._agency_list}
        by_unit: dict[str, list[Agency]] = defaultdict(list)
        for agency in self._agency_list:
            by_unit[agency.unit].append(agency)
        kinds = list(AgencyKind)
        self._by_unit = {
            code: tuple(sorted(group, key=lambda a: (kinds.index(a.kind), a.id))) for code, group in by_unit.items()
        }

        forward: dict[tuple[Level, str], list[Succession]] = defaultdict(list)
        backward: dict[tuple[Level, str], list[Succession]] = defaultdict(list)
        for s in self._succession_list:
            forward[(s.level, s.old_code)].append(s)
            backward[(s.level, s.new_code)].append(s)
        self._forward = dict(forward)
        self._backward = dict(backward)

        remote: dict[str, list[RemoteDifficult]] = defaultdict(list)
        for flag in self._remote_list:
            remote[flag.code].append(flag)
        self._remote = dict(remote)

    # --- units -------------------------------------------------------------------------------------------------

    def versions(self, code: str) -> tuple[Unit, ...]:
        """Every unit that ever had this code, oldest first."""
        return self._versions.get(code, ())

    def find_unit(self, code: str, at: date) -> Unit | None:
        for unit in self._versions.get(code, ()):
            if unit.period.contains(at):
                return unit
        return None

    def unit(self, code: str, at: date) -> Unit:
        """The unit with this code on that day."""
        unit = self.find_unit(code, at)
        if unit is not None:
            return unit
        known = self._versions.get(code)
        if not known:
            raise NotFound(f"no administrative unit has code {code}")
        spans = "; ".join(f"{u.name} {u.period}" for u in known)
        raise NotFound(f"unit {code} is not in force on {at} (it was: {spans})")

    def units(self, at: date, level: Level | None = None) -> Iterator[Unit]:
        """Every unit in force on that day (optionally of one level), in code order."""
        for code in sorted(self._versions):
            unit = self.find_unit(code, at)
            if unit is not None and (level is None or unit.level is level):
                yield unit

    def children(self, code: str, at: date) -> list[Unit]:
        """Units in force on that day whose parent is this code."""
        return [u for u in self._children.get(code, ()) if u.period.contains(at)]

    def path(self, code: str, at: date) -> list[Unit]:
        """The unit and its ancestors on that day, ending with its province."""
        unit = self.unit(code, at)
        path = [unit]
        while unit.parent is not None:
            unit = self.unit(unit.parent, at)
            path.append(unit)
        return path

    def province_of(self, code: str, at: date) -> Unit:
        return self.path(code, at)[-1]

    # --- agencies ----------------------------------------------------------------------------------------------

    def agency_by_id(self, agency_id: str) -> Agency:
        try:
            return self._agencies[agency_id]
        except KeyError:
            raise NotFound(f"no agency has id {agency_id}") from None

    def agencies_of(self, code: str, at: date, kind: AgencyKind | None = None) -> list[Agency]:
        """Agencies attached to the unit with this code, in force on that day: committee, chairman ... departments."""
        return [a for a in self._by_unit.get(code, ()) if a.period.contains(at) and (kind is None or a.kind is kind)]

    def agency(self, code: str, level: Level, at: date, kind: AgencyKind = AgencyKind.PEOPLE_COMMITTEE) -> Agency:
        """The agency of that kind at that level above (or at) the unit with this code, on that day.

        ``agency("21583", Level.DISTRICT, date(2025, 6, 30))`` is the People's Committee of Quy Nhơn city; the same
        question on 1 July 2025 fails, because districts no longer exist.
        """
        path = self.path(code, at)
        target = next((u for u in path if u.level is level), None)
        if target is None:
            raise NotFound(f"unit {code} has no {level.value} level on {at} ({' < '.join(u.name for u in path)})")
        found = self.agencies_of(target.code, at, kind)
        if not found:
            raise NotFound(f"no {kind.value} agency for {target.name} ({target.code}) on {at}")
        if len(found) > 1:
            raise NotFound(
                f"{len(found)} {kind.value} agencies for {target.name} on {at}: {', '.join(a.id for a in found)}"
            )
        return found[0]

    def supervisor(self, agency: Agency | str) -> Agency | None:
        """The agency directly above this one, or ``None`` at the top of the province."""
        current = self.agency_by_id(agency) if isinstance(agency, str) else agency
        return None if current.supervisor is None else self.agency_by_id(current.supervisor)

    def chain(self, agency: Agency | str) -> list[Agency]:
        """The agency and its supervisors, up to the top."""
        current: Agency | None = self.agency_by_id(agency) if isinstance(agency, str) else agency
        chain: list[Agency] = []
        while current is not None:
            chain.append(current)
            current = self.supervisor(current)
        return chain

    # --- successions -------------------------------------------------------------------------------------------

    def successors(self, unit: Unit) -> list[Link]:
        """The units this one became part of when it ceased, with how much of it went into each.

        Provinces and communes come straight from the transition table; a district (abolished without a table of
        its own) is followed through its communes: whole only if all of them went wholly into one new unit.
        """
        if unit.period.end is None:
            return []
        return self._successors_on(unit, unit.period.end)

    def _successors_on(self, unit: Unit, last_day: date) -> list[Link]:
        rows = [s for s in self._forward.get((unit.level, unit.code), ()) if day_before(s.effective) == last_day]
        if rows:
            links = []
            for s in sorted(rows, key=lambda s: s.new_code):
                new = self.find_unit(s.new_code, s.effective)
                if new is not None:
                    links.append(Link(new, s.transfer))
            return links
        if unit.level is not Level.DISTRICT:
            return []
        communes = self.children(unit.code, last_day)
        targets: dict[str, tuple[Unit, set[Transfer]]] = {}
        for commune in communes:
            for link in self._successors_on(commune, last_day):
                entry = targets.setdefault(link.unit.code, (link.unit, set()))
                entry[1].add(link.transfer)
        whole = (
            len(targets) == 1
            and next(iter(targets.values()))[1] == {Transfer.WHOLE}
            and all(self._successors_on(c, last_day) for c in communes)
        )
        return [Link(new, Transfer.WHOLE if whole else Transfer.PART) for _, (new, _t) in sorted(targets.items())]

    def predecessors(self, unit: Unit) -> list[Link]:
        """The units (in force the day before this one started) that went wholly or partly into it."""
        if unit.period.start is None:
            return []
        links = []
        for s in sorted(self._backward.get((unit.level, unit.code), ()), key=lambda s: s.old_code):
            if s.effective != unit.period.start:
                continue
            old = self.find_unit(s.old_code, day_before(s.effective))
            if old is not None:
                links.append(Link(old, s.transfer))
        return links

    # --- attributes --------------------------------------------------------------------------------------------

    def remote_difficult(self, code: str, at: date) -> RemoteDifficult | None:
        """The operator's remote/difficult-area row for this unit on that day, if any."""
        for flag in self._remote.get(code, ()):
            if flag.period.contains(at):
                return flag
        return None

    def is_remote_difficult(self, code: str, at: date) -> bool:
        """Whether the unit is a remote or difficult area on that day (no row means no)."""
        flag = self.remote_difficult(code, at)
        return flag is not None and flag.value

    # --- counts ------------------------------------------------------------------------------------------------

    @property
    def all_units(self) -> tuple[Unit, ...]:
        return self._unit_list

    @property
    def all_agencies(self) -> tuple[Agency, ...]:
        return self._agency_list

    @property
    def all_successions(self) -> tuple[Succession, ...]:
        return self._succession_list

    @property
    def all_remote_difficult(self) -> tuple[RemoteDifficult, ...]:
        return self._remote_list
