"""The org directory (rules/org.yaml): departments, their heads and liaisons, the group.

Every name, address and department a message mentions is resolved here. Lookups are
by normalised key, so 孫麗 finds 孙丽 and 研發部 finds 研发部.
"""

from __future__ import annotations

import email.utils
from collections.abc import Iterator
from dataclasses import dataclass, field

from collabd.textnorm import key


@dataclass(frozen=True)
class Person:
    name: str
    address: str
    department: str | None = None
    roles: frozenset[str] = frozenset()  # head, liaison, member, leader, secretary
    aliases: tuple[str, ...] = ()

    def formatted(self) -> str:
        return email.utils.formataddr((self.name, self.address))


@dataclass(frozen=True)
class Department:
    name: str
    head: Person
    liaison: Person
    members: tuple[Person, ...] = ()
    aliases: tuple[str, ...] = ()

    def people(self) -> Iterator[Person]:
        yield self.head
        yield self.liaison
        yield from self.members


@dataclass
class Directory:
    departments: list[Department]
    leader: Person
    secretary: Person
    others: list[Person] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._dept_by_key: dict[str, Department] = {}
        for dept in self.departments:
            for name in (dept.name, *dept.aliases):
                self._dept_by_key[key(name)] = dept
        self._by_address: dict[str, Person] = {}
        self._by_name: dict[str, list[Person]] = {}
        for person in self.people():
            merged = self._by_address.get(person.address)
            if merged is not None:
                # The same person listed twice (head of one department, member of
                # another, or leader): one entry with every role.
                person = Person(merged.name, merged.address,
                                merged.department or person.department,
                                merged.roles | person.roles,
                                tuple(dict.fromkeys((*merged.aliases, *person.aliases))))
            for address in (person.address, *[a for a in person.aliases if "@" in a]):
                self._by_address[address.lower()] = person
            for name in (person.name, *[a for a in person.aliases if "@" not in a]):
                bucket = self._by_name.setdefault(key(name), [])
                bucket[:] = [p for p in bucket if p.address != person.address] + [person]

    def people(self) -> Iterator[Person]:
        yield self.leader
        yield self.secretary
        for dept in self.departments:
            yield from dept.people()
        yield from self.others

    # -- lookups --------------------------------------------------------------------

    def department(self, name: str) -> Department | None:
        return self._dept_by_key.get(key(name)) if name.strip() else None

    def by_address(self, address: str) -> Person | None:
        return self._by_address.get(address.strip().lower())

    def by_name(self, name: str) -> list[Person]:
        """Everyone with this name (more than one means the name alone is ambiguous)."""
        return list(self._by_name.get(key(name), []))

    def department_names(self) -> list[str]:
        return [d.name for d in self.departments]

    def department_of(self, address: str) -> Department | None:
        person = self.by_address(address)
        if person is None or person.department is None:
            return None
        return self.department(person.department)

    def same_person(self, a: str, b: str) -> bool:
        """Are two addresses the same person (directly, or as a listed alias)?"""
        if a.strip().lower() == b.strip().lower():
            return True
        pa, pb = self.by_address(a), self.by_address(b)
        return pa is not None and pb is not None and pa.address == pb.address

    def resolve(self, text: str) -> tuple[Person | None, str | None]:
        """A person written as `名字`, `名字 <addr>` or `addr` → (person, problem).

        An address not in the directory is still a person (an outside partner); a bare
        name must be found, and found once.
        """
        text = text.strip()
        if not text:
            return None, None
        name, address = email.utils.parseaddr(text)
        if address and "@" in address:
            known = self.by_address(address)
            if known is not None:
                return known, None
            return Person(name or address.split("@")[0], address.lower()), None
        matches = self.by_name(text)
        if len(matches) == 1:
            return matches[0], None
        if not matches:
            return None, f"「{text}」不在组织目录中"
        places = "、".join(f"{p.name}（{p.department or '协作小组'}，{p.address}）"
                          for p in matches)
        return None, f"「{text}」在组织目录中有多人同名：{places}，请写明邮箱地址"
