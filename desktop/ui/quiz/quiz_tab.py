"""The Quiz tab: find out what the loaded model doesn't know, and teach it to say so.

Questions → Results → Class mode → Runs, with the run's settings and controls beside them.
The quiz uses the model loaded in the Chat tab; its requests run as one engine task, so the
GUI only hears about finished answers, stores each at once, and redraws the results.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.core.paths import database_path
from desktop.core.quiz.interrogation import AskOptions, SampleAnswer, total_asks
from desktop.core.quiz.qa_parse import qa_generation_messages
from desktop.core.quiz.quiz_store import QuizRun, QuizStore
from desktop.core.quiz.results import QuizSummary, summarize
from desktop.core.quiz.sft_export import sft_examples, write_sft_jsonl
from desktop.engine.engine_task import EngineTask, OneReplyTask
from desktop.engine.inference_engine import InferenceEngine
from desktop.engine.protocol import LoadedModel
from desktop.engine.quiz_task import InterrogationTask
from desktop.ui.quiz.class_mode import ClassMode
from desktop.ui.quiz.questions_page import QuestionsPage
from desktop.ui.quiz.results_page import ResultsPage
from desktop.ui.quiz.runs_page import RunRow, RunsPage
from desktop.ui.quiz.settings_panel import SettingsPanel

NO_MODEL = "No model loaded: load one in the Chat tab, then come back."
TOKENS_PER_QUESTION = 60  # budget for model-written questions


class QuizTab(QWidget):
    chat_tab_requested = Signal()
    running_changed = Signal(bool)  # the model is in use by a quiz job (the Chat tab waits)

    def __init__(self, engine: InferenceEngine, store: QuizStore | None = None) -> None:
        super().__init__()
        self.engine = engine
        self.store = store or QuizStore(database_path())
        self.store.mark_interrupted()
        self.task: EngineTask | None = None
        self.run: QuizRun | None = None  # the run shown (and being asked, while a task runs)
        self.answers: list[SampleAnswer] = []
        self.summary: QuizSummary | None = None
        self.questions = QuestionsPage()
        self.results = ResultsPage()
        self.class_mode = ClassMode()
        self.runs = RunsPage()
        self.pages = QTabWidget()
        self.pages.addTab(self.questions, "Questions")
        self.pages.addTab(self.results, "Results")
        self.pages.addTab(self.class_mode, "Class mode")
        self.pages.addTab(self.runs, "Runs")
        self.model_label = QLabel(NO_MODEL)
        self.model_label.setWordWrap(True)
        self.to_chat = QPushButton("Go to Chat to load a model")
        self.settings = SettingsPanel()
        self.run_button = QPushButton("Run the quiz")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self._layout()
        self._connect()
        self._on_model(engine.loaded_model)
        self.refresh_runs()

    def _layout(self) -> None:
        side = QWidget()
        side.setFixedWidth(300)
        sv = QVBoxLayout(side)
        sv.setContentsMargins(0, 0, 0, 0)
        sv.addWidget(QLabel("<b>Model</b>"))
        sv.addWidget(self.model_label)
        sv.addWidget(self.to_chat)
        sv.addWidget(QLabel("<b>3 · Ask</b>"))
        sv.addWidget(self.settings)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button, 1)
        buttons.addWidget(self.stop_button)
        sv.addLayout(buttons)
        sv.addWidget(self.progress)
        sv.addWidget(self.status)
        sv.addStretch(1)
        layout = QHBoxLayout(self)
        layout.addWidget(self.pages, 1)
        layout.addWidget(side)

    def _connect(self) -> None:
        self.engine.model_loaded.connect(self._on_model)
        self.engine.model_crashed.connect(self._on_model_crashed)
        self.to_chat.clicked.connect(self.chat_tab_requested)
        self.run_button.clicked.connect(self.start_run)
        self.stop_button.clicked.connect(self.stop)
        self.questions.model_questions_requested.connect(self.write_questions)
        self.results.export_requested.connect(self.export_training_set)
        self.runs.open_requested.connect(self.open_run)
        self.runs.resume_requested.connect(self.resume_run)
        self.runs.delete_requested.connect(self.delete_run)

    @property
    def busy(self) -> bool:
        return self.task is not None

    @Slot(object)
    def _on_model(self, model: LoadedModel | None) -> None:
        self.model_label.setText(Path(model.path).name if model else NO_MODEL)
        self.to_chat.setVisible(model is None)

    @Slot(str)
    def _on_model_crashed(self, _message: str) -> None:
        self._on_model(None)

    # ---- questions written by the model ------------------------------------------

    @Slot(int)
    def write_questions(self, count: int) -> None:
        _, text = self.questions.article()
        if not self._ready(need_text=True):
            return
        task = OneReplyTask(
            qa_generation_messages(text, count),
            AskOptions(temperature=0.3, max_tokens=TOKENS_PER_QUESTION * count, seed=0),
        )
        task.progress.connect(self._on_writing_progress)
        task.replied.connect(self.questions.add_model_reply)
        self._start(task, "The model is writing questions…", TOKENS_PER_QUESTION * count)

    @Slot(int)
    def _on_writing_progress(self, tokens: int) -> None:
        self.progress.setValue(min(tokens, self.progress.maximum()))

    # ---- a quiz run --------------------------------------------------------------

    @Slot()
    def start_run(self) -> None:
        pairs = self.questions.pairs.complete_pairs()
        settings = self.settings.settings()
        title, text = self.questions.article()
        if not self._ready(need_text=settings.open_book):
            return
        if not pairs:
            self.status.setText("Make or type some questions with answers first.")
            return
        if problems := settings.problems():
            self.status.setText("; ".join(problems).capitalize() + ".")
            return
        model = self.engine.loaded_model
        assert model is not None  # checked by _ready
        run_id = self.store.add_run(model.path, title, text, pairs, settings)
        self._show_run(self.store.get(run_id), [])
        self._ask(self.store.get(run_id))

    @Slot(int)
    def resume_run(self, run_id: int) -> None:
        run = self.store.get(run_id)
        model = self.engine.loaded_model
        if model is None or Path(model.path) != Path(run.model_path):
            self.status.setText(f"This run asked {run.model_name}: load that model in the "
                                "Chat tab to resume it.")  # fmt: skip
            return
        if self._ready(need_text=False):
            self._show_run(run, self.store.answers(run_id))
            self._ask(run)

    def _ask(self, run: QuizRun) -> None:
        self.store.set_status(run.id, "running")
        done = {a.key for a in self.answers}
        task = InterrogationTask(run.pairs, run.article_text, run.settings, done)
        task.answered.connect(self._on_answer)
        total = total_asks(len(run.pairs), run.settings)
        self._start(task, f"Asking {len(run.pairs)} questions…", total)
        self.progress.setValue(len(done))
        self.pages.setCurrentWidget(self.results)

    @Slot(object)
    def _on_answer(self, answer: SampleAnswer) -> None:
        if self.run is None:
            return
        self.store.add_answer(self.run.id, answer)
        self.answers.append(answer)
        self.progress.setValue(self.progress.value() + 1)
        self._redraw()

    # ---- task plumbing -----------------------------------------------------------

    def _ready(self, *, need_text: bool) -> bool:
        if self.task is not None:
            self.status.setText("Wait for the current job to end, or stop it.")
            return False
        if self.engine.loaded_model is None:
            self.status.setText(NO_MODEL)
            return False
        if need_text and not self.questions.article()[1]:
            self.status.setText("The article is empty: pick one or paste some text.")
            return False
        return True

    def _start(self, task: EngineTask, what: str, total: int) -> None:
        self.task = task
        task.ended.connect(self._on_ended)
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(0)
        self.status.setText(what)
        self._set_running(True)
        self.engine.run_task(task)

    @Slot(str, str)
    def _on_ended(self, status: str, message: str) -> None:
        task, self.task = self.task, None
        self._set_running(False)
        if isinstance(task, InterrogationTask) and self.run is not None:
            self.store.set_status(self.run.id, status)
            self.run = replace(self.run, status=status)
            self.refresh_runs()
        words = {"done": "Done.", "stopped": "Stopped.", "failed": "Failed:"}[status]
        self.status.setText(f"{words} {message}".strip())

    def _set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running)
        self.questions.model_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        self.settings.setEnabled(not running)
        self.running_changed.emit(running)

    @Slot()
    def stop(self) -> None:
        if self.task is not None:
            self.engine.cancel_task(self.task)

    def shutdown(self) -> None:
        self.stop()
        self.run = None  # answers still queued to this tab are dropped, not stored
        self.store.close()

    # ---- results, runs, export ---------------------------------------------------

    def _show_run(self, run: QuizRun, answers: list[SampleAnswer]) -> None:
        self.run, self.answers = run, answers
        self.settings.show_settings(run.settings)
        self.class_mode.restart()
        self._redraw()

    def _redraw(self) -> None:
        if self.run is None:
            return
        self.summary = summarize(self.run.pairs, self.answers, self.run.settings)
        self.results.show_results(self.summary, self.answers)
        self.class_mode.set_results(self.summary, self.answers)

    def refresh_runs(self) -> None:
        rows = []
        for run in self.store.runs():
            answers = self.store.answers(run.id)
            rows.append(RunRow(run, summarize(run.pairs, answers, run.settings)))
        self.runs.set_rows(rows)

    @Slot(int)
    def open_run(self, run_id: int) -> None:
        if self.task is not None:
            self.status.setText("Wait for the current job to end, or stop it.")
            return
        run = self.store.get(run_id)
        self.questions.set_pairs(run.pairs)
        self.questions.article_title = run.article_title
        self.questions.article_text.setPlainText(run.article_text)
        self._show_run(run, self.store.answers(run_id))
        self.pages.setCurrentWidget(self.results)

    @Slot(int)
    def delete_run(self, run_id: int) -> None:
        if self.run is not None and self.run.id == run_id and self.task is not None:
            return
        self.store.delete(run_id)
        self.refresh_runs()

    @Slot(Path, str, bool)
    def export_training_set(self, path: Path, refusal: str, unsure_refuses: bool) -> int:
        if self.summary is None or self.run is None:
            return 0
        settings = replace(self.run.settings, refusal=refusal)
        examples = sft_examples(self.summary.questions, settings, unsure_refuses=unsure_refuses)
        try:
            write_sft_jsonl(path, examples)
        except OSError as exc:
            self.results.export_status.setText(f"Could not save {path.name}: {exc.strerror or exc}")
            return 0
        refusals = sum(e["messages"][1]["content"] == refusal for e in examples)
        self.results.export_status.setText(
            f"Wrote {len(examples)} examples to {path}: {len(examples) - refusals} answers, "
            f"{refusals} refusals."
        )
        return len(examples)
