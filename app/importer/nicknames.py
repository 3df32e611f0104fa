"""Nicknames and the names they stand for (SPEC 12): Bob is Robert, Liz is Elizabeth, Bill is William.

Compiled by hand for Roster from the common English diminutives that US and UK name references list
(for a fuller, machine-readable list see github.com/carltonnorthern/nicknames, Apache-2.0, from which
none of this was copied). Each line: the formal name, then the names people use for it. A name may stand
for two formal names (Alex: Alexander, Alexandra); any shared formal name makes two names equivalent.
"""
from __future__ import annotations

TABLE = """
abigail abby abbie gail
abraham abe bram
albert al bert bertie
alexander alex alec sandy xander lex
alexandra alex sandra sandy lexi alexa
alfred alf alfie fred freddie
allison ally allie
andrew andy drew
angela angie
anthony tony ant
barbara barb babs barbie
benjamin ben benny benji
bernard bernie
beverly bev
bradley brad
catherine cathy kate katie cat kitty kay
katherine kathy kate katie kat kitty kay
kathleen kathy kate katie
charles charlie chuck chas chaz
charlotte charlie lottie lotte
christine chris chrissy tina
christopher chris kit topher
cynthia cindy
daniel dan danny
david dave davey
deborah debbie deb debra
dennis denny
donald don donnie
dorothy dot dottie dolly
douglas doug
edward ed eddie ted teddy ned
eleanor ellie nell nora
elizabeth liz lizzie beth betty betsy eliza libby lisa liza bess elsie
emily em emmy
eugene gene
frances fran frannie
francis frank frankie
franklin frank
frederick fred freddie fritz
gabriel gabe
gerald gerry jerry
gregory greg
harold hal harry
henry hank harry hal
jacob jake jay
james jim jimmy jamie jem
janet jan
jeffrey jeff
jennifer jen jenny jenn
jessica jess jessie
johanna jo hanna
john jack johnny jon
jonathan jon jonny nathan
joseph joe joey jos
joshua josh
judith judy jude
kenneth ken kenny
lawrence larry laurie
leonard leo len lenny
louis lou
lucille lucy
margaret maggie meg peggy marge margie greta daisy
martha marty mattie patsy
martin marty
matthew matt matty
michael mike mikey mick mickey
mitchell mitch
nancy nan
nathaniel nate nat nathan
nicholas nick nicky
pamela pam
patricia pat patty trish tricia
patrick pat paddy rick
peter pete
philip phil pip
phillip phil
rebecca becky becca
richard rick ricky dick rich richie
robert bob bobby rob robbie bert
ronald ron ronnie
russell russ
samantha sam sammy
samuel sam sammy
sandra sandy
stephanie steph stephie
stephen steve stevie
steven steve stevie
susan sue susie suzy
suzanne sue susie suzy
theodore ted teddy theo
thomas tom tommy
timothy tim timmy
victoria vicky tori
vincent vince vinny
walter walt wally
william bill billy will willie liam
zachary zach zack
"""


def _formal_names() -> dict[str, frozenset[str]]:
    names: dict[str, set[str]] = {}
    for line in TABLE.strip().splitlines():
        formal, *others = line.split()
        for name in (formal, *others):
            names.setdefault(name, set()).add(formal)
    return {name: frozenset(formals) for name, formals in names.items()}


FORMAL = _formal_names()  # a name (formal or nickname) -> the formal names it may stand for
FIRST_FORMAL = {name: min(formals) for name, formals in FORMAL.items()}


def same_name(a: str, b: str) -> bool:
    """Two first names (normalised) that may be one person's: equal, or a nickname of the same name."""
    if a == b:
        return True
    # Called for every pair of first names compared: most names are in no line of the table.
    formals = FORMAL.get(a)
    return formals is not None and (others := FORMAL.get(b)) is not None and not formals.isdisjoint(others)


def formal(name: str) -> str:
    """The first formal name a name stands for (itself if none), for blocking."""
    return FIRST_FORMAL.get(name, name)
