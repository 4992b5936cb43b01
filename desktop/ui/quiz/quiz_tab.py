"""The Quiz tab: find out what the loaded model doesn't know, and teach it to say so.

Questions → Results → Class mode → Runs, with the run's settings and controls beside them.
The quiz uses the model loaded in the Chat tab; its requests run as one engine task, so the
GUI only hears about finished answers, stores each at once, and redraws the results.
"""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QHBoxLayout,
    QMessageBox,
    QTabWidget,
    QWidget,
)

from desktop.core.chat.chat_request import ChatReply
from desktop.core.chat.context_fit import ContextFull
from desktop.core.quiz.interrogation import (
    AskedPrompt,
    Mode,
    SampleAnswer,
    quiz_request,
    total_asks,
)
from desktop.core.quiz.qa_parse import qa_generation_messages
from desktop.core.quiz.quiz_store import QuizRun, QuizStore
from desktop.core.quiz.results import ModeResult, QuizSummary, summarize
from desktop.core.storage.atomic_files import write_text_atomically
from desktop.core.storage.data_problems import ReadOnlyDatabase
from desktop.core.storage.paths import data_dir, database_path
from desktop.engine.engine_task import EngineTask, ReplyTask
from desktop.engine.inference_engine import InferenceEngine
from desktop.engine.protocol import LoadedModel
from desktop.engine.quiz_ask import model_kind
from desktop.engine.quiz_task import InterrogationTask
from desktop.ui.app_settings import AppSettings
from desktop.ui.quiz.answers_html import progress_text
from desktop.ui.quiz.class_mode import ClassMode
from desktop.ui.quiz.questions_page import QuestionsPage
from desktop.ui.quiz.results_page import ResultsPage
from desktop.ui.quiz.run_panel import NO_MODEL, RunPanel
from desktop.ui.quiz.runs_page import RunRow, RunsPage

TOKENS_PER_QUESTION = 60  # budget for model-written questions
REDRAW_MS = 150  # answers can come faster than the results are worth redrawing


HOLDER = "the Quiz tab"  # how the Chat tab names who has the model


def article_too_long(error: ContextFull, *, writing: bool) -> str:
    """The Chat tab's advice (a new chat, the overflow setting) means nothing here."""
    what = "write questions about it" if writing else "ask about it"
    return (f"The article and the instructions are {error.tokens:,} tokens and this model's "
            f"context holds {error.context:,}: it cannot read the article to {what}. Make "
            "questions from sentences instead, shorten the article, or load a model with a "
            "larger context.")  # fmt: skip


class QuizTab(QWidget):
    chat_tab_requested = Signal()
    built_in_requested = Signal()  # "Use the built-in model": loaded, the Quiz tab stays
    posttrain_requested = Signal(object)  # QuizTrainingSet: "Post-train on this"
    article_chat_requested = Signal(str, str)  # the run's article: title, text

    def __init__(self, engine: InferenceEngine, store: QuizStore | None = None) -> None:
        super().__init__()
        self.engine = engine
        self.store = store or QuizStore(database_path())
        with contextlib.suppress(ReadOnlyDatabase):  # a read-only session: runs shown as left
            self.store.mark_interrupted()
        self.task: EngineTask | None = None
        self.run: QuizRun | None = None  # the run shown (and being asked, while a task runs)
        self.answers: list[SampleAnswer] = []
        self.prompts: dict[tuple[int, Mode], AskedPrompt] = {}  # the shown run's
        self.summary: QuizSummary | None = None
        self._cache: dict[tuple[int, Mode, int], ModeResult] = {}  # see summarize()
        self._started = (0.0, 0)  # when this session's asking began, answers then
        self._again: tuple[int, str] | None = None  # "Quiz again": the run, the new model
        self._compare_with: int | None = None  # the run a quiz-again run is compared with
        self._redraw_timer = QTimer(self, singleShot=True, interval=REDRAW_MS)
        self._redraw_timer.timeout.connect(self._redraw)
        self.stored_settings = AppSettings()
        self.questions = QuestionsPage()
        self.results = ResultsPage(self.stored_settings)
        self.class_mode = ClassMode()
        self.runs = RunsPage()
        self.pages = QTabWidget()
        self.pages.addTab(self.questions, "Questions")
        self.pages.addTab(self.results, "Results")
        self.pages.addTab(self.class_mode, "Class mode")
        self.pages.addTab(self.runs, "Runs")
        self.panel = RunPanel()
        p = self.panel  # its parts, by the names the tab's code and tests use
        self.model_label, self.to_chat, self.settings_panel = (
            p.model_label,
            p.to_chat,
            p.settings_panel,
        )
        self.run_button, self.stop_button = p.run_button, p.stop_button
        self.progress, self.status = p.progress, p.status
        layout = QHBoxLayout(self)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.panel)
        self._connect()
        self.settings_panel.load(self.stored_settings)
        self._restore_draft()
        self._on_model(engine.loaded_model)
        self.refresh_runs()

    def _connect(self) -> None:
        self.engine.model_loaded.connect(self._on_model)
        self.engine.model_crashed.connect(self._on_model_gone)
        self.engine.load_failed.connect(self._on_model_gone)
        self.engine.load_started.connect(self._on_load_started)
        self.to_chat.clicked.connect(self.chat_tab_requested)
        self.panel.built_in.clicked.connect(self.built_in_requested)
        self.run_button.clicked.connect(self.start_run)
        self.stop_button.clicked.connect(self.stop)
        self.questions.model_questions_requested.connect(self.write_questions)
        self.runs.open_requested.connect(self.open_run)
        self.runs.resume_requested.connect(self.resume_run)
        self.runs.delete_requested.connect(self.delete_run)
        self.results.posttrain_requested.connect(self._posttrain)
        self.results.article_chat_requested.connect(self._chat_with_article)

    @property
    def busy(self) -> bool:
        return self.task is not None

    @Slot(object)
    def _on_model(self, model: LoadedModel | None) -> None:
        self.panel.show_model(model)
        self.settings_panel.set_model(model)
        if model is not None and self._again is not None:
            self._start_again()

    @Slot(str)
    def _on_model_gone(self, _message: str) -> None:
        self._on_model(None)

    @Slot(str)
    def _on_load_started(self, path: str) -> None:
        self.panel.show_model(None, loading=path)

    # ---- questions written by the model ------------------------------------------

    @Slot(int)
    def write_questions(self, count: int) -> None:
        _, text = self.questions.article()
        if not self._ready(need_text=True):
            return
        request = quiz_request(qa_generation_messages(text, count), temperature=0.3,
                               max_tokens=TOKENS_PER_QUESTION * count, seed=0)  # fmt: skip
        task = ReplyTask(request)
        task.tokens.connect(self._on_writing_progress)
        task.finished.connect(self._on_questions_written)
        self._start(task, "The model is writing questions…", TOKENS_PER_QUESTION * count)

    @Slot(object)
    def _on_writing_progress(self, batch: tuple[object, ...]) -> None:
        self.progress.setValue(min(self.progress.value() + len(batch), self.progress.maximum()))

    @Slot(object)
    def _on_questions_written(self, reply: ChatReply) -> None:
        self.questions.add_model_reply(reply.text)

    # ---- a quiz run --------------------------------------------------------------

    @Slot()
    def start_run(self) -> None:
        pairs = self.questions.table_model.complete_pairs()
        settings = self.settings_panel.quiz_settings()
        title, text = self.questions.article()
        if not self._ready(need_text=settings.open_book):
            return
        if not pairs:
            self.status.setText("Make or type some questions with answers first.")
            return
        if problems := settings.problems():
            self.status.setText("; ".join(problems).capitalize() + ".")
            return
        self.settings_panel.save(self.stored_settings)
        model = self.engine.loaded_model
        assert model is not None  # checked by _ready
        # Fixed now and kept with the run: how it asks does not change under it.
        settings = replace(settings, asked_as=model_kind(model, settings.ask_as)[0])
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
        if self._ready(need_text=False) and self._may_replace_questions(run):
            if not run.settings.asked_as:  # from before runs recorded how they asked
                asked = model_kind(model, run.settings.ask_as)[0]
                run = replace(run, settings=replace(run.settings, asked_as=asked))
                self.store.set_settings(run.id, run.settings)
            self._show_questions(run)
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
        self._started = (time.monotonic(), len(done))
        self.pages.setCurrentWidget(self.results)
        self.refresh_runs()
        self.runs.select_run(run.id)

    @Slot(object)
    def _on_answer(self, answer: SampleAnswer) -> None:
        if self.run is None:
            return
        self.store.add_answer(self.run.id, answer)
        self.answers.append(answer)
        if answer.prompt is not None:
            self.prompts[(answer.question_index, answer.mode)] = answer.prompt
        self.progress.setValue(self.progress.value() + 1)
        since, before = self._started
        done, total = len(self.answers), self.progress.maximum()
        self.status.setText(progress_text(done, total, done - before, time.monotonic() - since))
        if not self._redraw_timer.isActive():
            self._redraw_timer.start()

    # ---- post-training and quizzing again ------------------------------------------

    @Slot(object)
    def _posttrain(self, examples: list[dict[str, object]]) -> None:
        from desktop.core.quiz.sft_export import QuizTrainingSet

        if self.run is None or not examples:
            return
        self.posttrain_requested.emit(QuizTrainingSet(tuple(examples), self.run.id,
                                                      self.run.model_path,
                                                      self.run.article_title))  # fmt: skip

    @Slot()
    def _chat_with_article(self) -> None:
        title, text = (self.run.article_title, self.run.article_text) if self.run else ("", "")
        if text.strip():
            self.article_chat_requested.emit(title, text)
        else:
            self.status.setText("This run has no article to chat with.")

    def quiz_again(self, run_id: int, model_path: str) -> None:
        """Ask `run_id`'s questions, the same way, of the model at `model_path` (which the
        Chat tab is loading), then show the two runs side by side. A fine-tuned model was
        taught to answer chat questions: it is asked as an instruct model."""
        self._again = (run_id, model_path)
        model = self.engine.loaded_model
        if model is not None and Path(model.path) == Path(model_path):
            self._start_again()
        else:
            self.status.setText(f"Loading {Path(model_path).name} to quiz it again…")

    def _start_again(self) -> None:
        if self._again is None or self.task is not None:
            return
        run_id, path = self._again
        model = self.engine.loaded_model
        if model is None or Path(model.path) != Path(path):
            return
        self._again = None
        old = self.store.get(run_id)
        settings = replace(old.settings, ask_as="instruct", asked_as="instruct")
        new_id = self.store.add_run(model.path, old.article_title, old.article_text, old.pairs,
                                    settings)  # fmt: skip
        self._compare_with = run_id
        self._show_questions(old)
        self._show_run(self.store.get(new_id), [])
        self._ask(self.store.get(new_id))

    def _show_comparison(self, old_id: int) -> None:
        if self.run is None:
            return
        wanted = {old_id, self.run.id}
        self.refresh_runs()
        rows = [row for row in self.runs.model.records if row.run.id in wanted]
        rows.sort(key=lambda row: row.run.id)
        self.runs.comparison.show_runs(rows)
        self.pages.setCurrentWidget(self.runs)

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
        if not self.engine.acquire(HOLDER):
            self.status.setText(f"The model is in use by {self.engine.holder}; wait for it.")
            return
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
            self._redraw()
            self.refresh_runs()
        words = {"done": "Done.", "stopped": "Stopped.", "failed": "Failed:"}[status]
        if task is not None and isinstance(task.error, ContextFull):
            message = article_too_long(task.error, writing=not isinstance(task, InterrogationTask))
        self.status.setText(f"{words} {message}".strip())
        compare_with, self._compare_with = self._compare_with, None
        if compare_with is not None and isinstance(task, InterrogationTask):
            self._show_comparison(compare_with)

    def _set_running(self, running: bool) -> None:
        self.panel.set_running(running)
        self.questions.model_button.setEnabled(not running)
        if not running:
            self.engine.release(HOLDER)

    @Slot()
    def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()

    def _draft_path(self) -> Path:
        return data_dir() / "quiz_draft.json"

    def _restore_draft(self) -> None:
        """The article and questions as they were when the app closed."""
        try:
            draft = json.loads(self._draft_path().read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if isinstance(draft, dict):
            self.questions.restore(draft)

    def _save_draft(self) -> None:
        with contextlib.suppress(OSError):  # a convenience; the runs are in the database
            write_text_atomically(self._draft_path(), json.dumps(self.questions.draft()))

    def shutdown(self) -> None:
        self._save_draft()
        self.stop()
        if self.task is not None and self.run is not None:
            self.store.set_status(self.run.id, "stopped")  # resumable at the next start
        self.run = None  # answers still queued to this tab are dropped, not stored
        self.results.save_values()
        self.stored_settings.sync()
        self.store.close()

    # ---- results, runs, export ---------------------------------------------------

    def _show_run(self, run: QuizRun, answers: list[SampleAnswer]) -> None:
        self.run, self.answers = run, answers
        self.prompts = self.store.prompts(run.id)
        self._cache.clear()
        self.settings_panel.show_settings(run.settings)
        self.class_mode.restart()
        self._redraw()

    def _redraw(self) -> None:
        if self.run is None:
            return
        self.summary = summarize(self.run.pairs, self.answers, self.run.settings, self._cache)
        self.results.show_results(self.summary, self.answers, self.run.settings, self.prompts)
        self.class_mode.set_results(self.summary, self.answers)

    def refresh_runs(self) -> None:
        rows = []
        for run in self.store.runs():
            if self.run is not None and run.id == self.run.id and self.summary is not None:
                rows.append(RunRow(run, self.summary))  # already summarised
                continue
            answers = self.store.answers(run.id)
            summary = summarize(run.pairs, answers, run.settings, with_agreement=False)
            rows.append(RunRow(run, summary))
        self.runs.set_rows(rows)

    @Slot(int)
    def open_run(self, run_id: int) -> None:
        if self.task is not None:
            self.status.setText("Wait for the current job to end, or stop it.")
            return
        run = self.store.get(run_id)
        if not self._may_replace_questions(run):
            return
        self._show_questions(run)
        self._show_run(run, self.store.answers(run_id))
        self.pages.setCurrentWidget(self.results)

    def _show_questions(self, run: QuizRun) -> None:
        self.questions.show_text(run.article_title, run.article_text)
        self.questions.set_pairs(run.pairs)

    def _may_replace_questions(self, run: QuizRun, confirm: bool = True) -> bool:
        """Opening a run shows its questions and article: ask before replacing other ones."""
        current = self.questions.table_model.pairs
        if not confirm or not current or current == run.pairs:
            return True
        answer = QMessageBox.question(
            self, "Open quiz run", "This replaces the questions and the article on the "
            "Questions page with the run's. Go on?",
        )  # fmt: skip
        return answer == QMessageBox.StandardButton.Yes

    @Slot(int)
    def delete_run(self, run_id: int) -> None:
        if self.run is not None and self.run.id == run_id and self.task is not None:
            self.status.setText("That run is being asked: stop it first.")
            return
        self.store.delete(run_id)
        self.refresh_runs()
