"""Build cedar_ridge_teacher_focus_group.docx laid out the way transcription services deliver it.

Each speaker turn is one paragraph that opens with the speaker's name in bold. The words
after it are broken into several runs at arbitrary points, mid-word included, as services'
editors leave them; a few names are themselves split over two bold runs. The split points
come from a seeded generator, so running this again gives the same paragraphs and runs.

    python sample_transcripts/make_docx.py
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

from docx import Document

OUTPUT = Path(__file__).with_name("cedar_ridge_teacher_focus_group.docx")
SEED = 2024

TURNS = [
    (
        "Hannah Pryce",
        "Thanks, everyone. There's pizza, please eat while we talk. I'm recording, and nothing you say will be attributed to you by name. Could you each say what you teach?",
    ),
    ("Amara Nwosu", "Amara Nwosu, sixth-grade math, and I'm one of the fellows."),
    ("Luis Ortega", "Luis Ortega, seventh-grade math, also a fellow."),
    ("Brandon Tully", "Brandon Tully, eighth-grade math. Not a fellow. By choice. [laughs]"),
    ("Jenny Kowalczyk", "Jenny Kowalczyk, seventh-grade science."),
    ("Beth Sorensen", "Beth Sorensen, special education, I co-teach in sixth and seventh math."),
    ("Hannah Pryce", "Let's start with how you work together day to day."),
    (
        "Amara Nwosu",
        "The sixth-grade math teachers plan every unit together during content days. We write one shared task and one common assessment per cycle. It's a lot of work up front but it means nobody is building the whole unit alone on a Sunday night.",
    ),
    (
        "Beth Sorensen",
        "And they actually include me, which hasn't always been true in other buildings. I come to the content meeting and I can say, this task won't work for my kids unless we change the reading load, and they change it. I'm not just the person who shows up to modify things afterwards.",
    ),
    (
        "Brandon Tully",
        "Eighth grade is different. We meet, but it's more like a check-in. Everybody's got their own way of teaching algebra and we've all been doing it for a long time. I don't think that's a crisis. We're good teachers.",
    ),
    ("Hannah Pryce", "How has Ms. Vega's coaching figured in?"),
    (
        "Luis Ortega",
        "Marisol is the reason I stayed in teaching, no exaggeration. My second year was a disaster, and she came in every week, not to evaluate, just to help. She'd sit in the back, write down what kids said, and then we'd talk. She never once made me feel stupid. The feedback was always about one thing I could try tomorrow.",
    ),
    (
        "Brandon Tully",
        "I'll give her this, she doesn't force it. She waited for us. A lot of coaches come in with a clipboard and a checklist. She came in with graph paper and asked what we needed. [laughs] Two years later I let her watch a lesson.",
    ),
    ("Hannah Pryce", "What about the administration? How has it supported the math work?"),
    (
        "Jenny Kowalczyk",
        "Which administration? [laughs] [crosstalk] No, seriously. I've been here six years and this is my fourth principal if you count the interim. Every one of them had a new plan. Every August we get a new binder.",
    ),
    (
        "Amara Nwosu",
        "Dr. Pruitt has been clearer than the last one, to be fair. At the first staff meeting she said she expects every department to have a common assessment by winter break. Some people groaned, but the math teams were already doing it, so that felt like a win for us.",
    ),
    (
        "Brandon Tully",
        "Here's the problem with that, though. When every principal has a new expectation, you learn to wait it out. I'm not proud of it. But I've seen four initiatives come and go, and I'm not going to rebuild my whole course for a fifth one that leaves in June.",
    ),
    ("Hannah Pryce", "Jenny, you're in science. How does the math program look from there?"),
    (
        "Jenny Kowalczyk",
        "From the outside, honestly. The math people got a summer institute, stipends, new manipulatives. We got an email about it. I'm not bitter. [laughs] Okay, a little bitter. But nobody from the program has ever come to a science department meeting.",
    ),
    ("Luis Ortega", "That's not totally fair, Marisol did that data workshop for the whole staff in November."),
    (
        "Jenny Kowalczyk",
        "That's true, and it was good. I use the task-sorting thing now with lab reports. But that was one afternoon.",
    ),
    ("Hannah Pryce", "What makes it hard to collaborate more widely?"),
    (
        "Beth Sorensen",
        "Time, and the schedule. Science and math meet on different days, so even if we wanted to plan a joint unit there's no moment when we're all free. We tried doing it after school and it lasted three weeks.",
    ),
    (
        "Amara Nwosu",
        "And the turnover. We lost two sixth-grade teachers last spring. The people who replaced them are great, but we had to start the cycle work over from scratch. You build the trust, then somebody leaves and you're rebuilding.",
    ),
    ("Hannah Pryce", "Amara, Ms. Vega mentioned you run the content meeting sometimes. How did that come about?"),
    (
        "Amara Nwosu",
        "She asked me to cover one week when she had testing. Then it just became mine. At first I felt like a fraud, like, who am I to tell my colleagues what to do. Now I think of it less as telling and more as keeping the conversation honest. I guess that's leadership? I still don't love the word.",
    ),
    (
        "Luis Ortega",
        "I started the math club because the kids kept asking for harder problems. Now there are forty kids on Thursdays and two other teachers help. That's the thing I'd point to if someone asked me whether this program matters.",
    ),
    ("Hannah Pryce", "Has any of this spread beyond the math teams?"),
    (
        "Jenny Kowalczyk",
        "The common assessment thing is becoming school-wide because of Dr. Pruitt. Science is building one now. I'd say that came from the math team even if nobody says so.",
    ),
    (
        "Brandon Tully",
        "[inaudible 00:06:09] ...the numbers for eighth grade didn't move, you know. I'm not saying the cycles don't work for sixth grade. I'm saying by the time they reach me, a six-week cycle isn't going to close a three-year gap.",
    ),
    (
        "Amara Nwosu",
        "But that's why we did the untracking, Brandon. So they don't get to you three years behind. [crosstalk] Give it two more years and look at who shows up in your algebra class.",
    ),
    ("Brandon Tully", "Fair. I'll believe it when I see it. [laughs]"),
    ("Hannah Pryce", "What would you want the program to do next?"),
    (
        "Luis Ortega",
        "Bring in science. Seriously. Jenny and I should be planning the rate of change unit together, it's the same idea in both classes.",
    ),
    (
        "Beth Sorensen",
        "And include special ed in the institute. I learned everything secondhand from Amara. And keep Marisol's time protected, because when she's pulled to cover classes everything stalls.",
    ),
    ("Hannah Pryce", "Thank you all. This was really rich. Take the rest of the pizza."),
]


def label_runs(speaker: str, rnd: random.Random) -> list[str]:
    """The bold "Name:" label, occasionally broken into two runs."""
    label = f"{speaker}:"
    if rnd.random() < 0.2:
        cut = rnd.randint(1, len(label) - 1)
        return [label[:cut], label[cut:]]
    return [label]


def body_runs(text: str, rnd: random.Random) -> list[str]:
    """The turn's words (after one space), cut into 1 to 4 runs at arbitrary characters."""
    body = " " + text
    cuts = sorted(rnd.sample(range(1, len(body)), rnd.choice([0, 0, 1, 2, 3])))
    return [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)])]


def build(path: Path = OUTPUT) -> Path:
    rnd = random.Random(SEED)
    doc = Document()
    doc.core_properties.author = "Transcription service"
    doc.core_properties.title = "Cedar Ridge Middle School teacher focus group"
    doc.core_properties.created = datetime(2024, 2, 22, 9, 0, tzinfo=UTC)
    for speaker, text in TURNS:
        paragraph = doc.add_paragraph()
        for piece in label_runs(speaker, rnd):
            paragraph.add_run(piece).bold = True
        for piece in body_runs(text, rnd):
            paragraph.add_run(piece)
    doc.save(path)
    return path


if __name__ == "__main__":
    print(build())
