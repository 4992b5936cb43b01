"""The main window: one tab per step of how an assistant is made."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, cast

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.lessons import Step
from desktop.core.storage.conversations import ConversationStore
from desktop.core.storage.paths import database_path
from desktop.engine.inference_engine import InferenceEngine
from desktop.engine.jobs import Jobs
from desktop.ui.app_settings import AppSettings
from desktop.ui.chat.chat_tab import ChatTab
from desktop.ui.lessons_panel import LessonsPanel
from desktop.ui.main_menu import add_main_menu
from desktop.ui.models.models_tab import ModelsTab
from desktop.ui.presenter import Presenter
from desktop.ui.server.server_switch import ServerSwitch
from desktop.ui.tokens.tokens_tab import TokensTab
from desktop.ui.widgets.lazy_tab import LazyTab

if TYPE_CHECKING:
    from desktop.core.quiz.sft_export import QuizTrainingSet
    from desktop.ui.compare.compare_window import CompareWindow
    from desktop.ui.posttrain.posttrain_tab import PosttrainTab
    from desktop.ui.quiz.quiz_tab import QuizTab
    from desktop.ui.reinforce.reinforce_tab import ReinforceTab
    from desktop.ui.server.server_panel import ServerPanel
    from desktop.ui.train.train_tab import TrainTab


def _train_tab() -> TrainTab:
    from desktop.ui.train.train_tab import TrainTab

    return TrainTab()


def _quiz_tab(engine: InferenceEngine) -> QuizTab:
    from desktop.ui.quiz.quiz_tab import QuizTab

    return QuizTab(engine)


def _posttrain_tab() -> PosttrainTab:
    from desktop.ui.posttrain.posttrain_tab import PosttrainTab

    return PosttrainTab()


def _reinforce_tab() -> ReinforceTab:
    from desktop.ui.reinforce.reinforce_tab import ReinforceTab

    return ReinforceTab()


class MainWindow(QMainWindow):
    def __init__(
        self,
        engine: InferenceEngine | None = None,
        store: ConversationStore | None = None,
    ) -> None:
        super().__init__()
        self.setWindowTitle("Deep Dive Lab")
        # The store first: if the database cannot be opened, no engine thread is left
        # running ("QThread: Destroyed while thread is still running" aborts).
        self.store = store or ConversationStore(database_path())
        self.engine = engine or InferenceEngine()
        if self.engine.thread() is self.thread():
            self.engine.start()
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.models_tab = ModelsTab(in_use=self.model_in_use)
        self.chat_tab = ChatTab(self.engine, self.store)
        self.tokens_tab = TokensTab()
        self.train_page = LazyTab(_train_tab)
        self.train_page.created.connect(self._on_train_tab)
        self.quiz_page = LazyTab(lambda: _quiz_tab(self.engine))
        self.quiz_page.created.connect(self._on_quiz_tab)
        self.posttrain_page = LazyTab(_posttrain_tab)
        self.posttrain_page.created.connect(self._on_posttrain_tab)
        self.reinforce_page = LazyTab(_reinforce_tab)
        self.reinforce_page.created.connect(self._on_reinforce_tab)
        self._training: dict[str, bool] = {}  # which tabs are training now
        self.tabs.addTab(self.models_tab, "Models")
        self.tabs.addTab(self.tokens_tab, "Tokens")
        self.tabs.addTab(self.train_page, "Train")
        self.tabs.addTab(self.chat_tab, "Chat")
        self.tabs.addTab(self.quiz_page, "Quiz")
        self.tabs.addTab(self.posttrain_page, "Post-train")
        self.tabs.addTab(self.reinforce_page, "Reinforce")
        self.notice = QLabel()  # what start-up did (read-only, another folder), and refusals
        self.notice.setTextFormat(Qt.TextFormat.PlainText)
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet("background: #fff4ce; color: #5c4400; padding: 6px;")
        self.notice.hide()
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.notice)
        column.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        self.models_tab.chat_requested.connect(self.chat_with)
        self.models_tab.library_changed.connect(self._on_library_changed)
        self.models_tab.servers.changed.connect(self._on_servers_changed)
        self._on_servers_changed()
        self.chat_tab.select_last_model()
        self.chat_tab.compare_requested.connect(self.open_compare)
        self._compare: CompareWindow | None = None
        self.server_switch = ServerSwitch(self.engine, self)
        self.server_switch.running_changed.connect(self._on_server_running)
        self._server_panel: ServerPanel | None = None
        self.chat_tab.train_requested.connect(self.train_on_conversation)
        self.tabs.setCurrentWidget(self.chat_tab)
        self.presenter = Presenter(self, AppSettings())
        self.presenter.restore()
        self._lessons: LessonsPanel | None = None
        self.lessons_action = QAction("Lessons", self)
        self.lessons_action.setShortcut(QKeySequence("F1"))
        self.lessons_action.triggered.connect(self.toggle_lessons)
        self.addAction(self.lessons_action)
        self.lessons_button = QToolButton()
        self.lessons_button.setText("Lessons (F1)")
        self.lessons_button.setToolTip("The talk's steps, one at a time, beside the tab")
        self.lessons_button.clicked.connect(self.toggle_lessons)
        self.server_button = QToolButton()
        self.server_button.setText("API server: off")
        self.server_button.setToolTip("Serve the loaded model as an OpenAI-compatible API")
        self.server_button.clicked.connect(self.show_server_panel)
        corner = QWidget()
        corner_row = QHBoxLayout(corner)
        corner_row.setContentsMargins(0, 0, 0, 0)
        corner_row.addWidget(self.server_button)
        corner_row.addWidget(self.lessons_button)
        self.tabs.setCornerWidget(corner)
        self.menu = add_main_menu(self, self.presenter)
        if AppSettings().get("lessons/shown"):
            self.toggle_lessons()

    @Slot()
    def open_model_file(self) -> None:
        """File → Open a model file…: the Chat tab's own Open GGUF… (its folder, its
        list of recent files), in the Chat tab."""
        self.tabs.setCurrentWidget(self.chat_tab)
        self.chat_tab.open_model_file()

    @Slot(str)
    def chat_with(self, path: str) -> None:
        """ "Chat with this model": open the Chat tab and load it there."""
        self.tabs.setCurrentWidget(self.chat_tab)
        self.chat_tab.load_model(path)  # it says why not, if it cannot now

    def show_notice(self, sentence: str) -> None:
        """A sentence at the top of the window that stays (shown once, however often)."""
        lines = self.notice.text().splitlines() if self.notice.text() else []
        if sentence not in lines:
            self.notice.setText("\n".join([*lines, sentence]))
        self.notice.show()

    # ---- remote models, compare, the API server ----------------------------------------

    @Slot()
    def _on_servers_changed(self) -> None:
        self.chat_tab.set_remote(self.models_tab.servers.remote_models())

    @Slot()
    def open_compare(self) -> CompareWindow:
        """The Compare window (one, reused): two models, the Chat tab's conversation."""
        from desktop.ui.compare.compare_window import CompareWindow

        if self._compare is None:
            self._compare = CompareWindow(self.engine, self.chat_tab, self)
        self._compare.start_from_chat()
        self._compare.show()
        self._compare.raise_()
        self._compare.activateWindow()
        return self._compare

    @property
    def compare(self) -> CompareWindow | None:
        return self._compare

    @Slot()
    def show_server_panel(self) -> ServerPanel:
        from desktop.ui.server.server_panel import ServerPanel

        if self._server_panel is None:
            self._server_panel = ServerPanel(self.server_switch, AppSettings(), self)
        self._server_panel.show()
        self._server_panel.raise_()
        return self._server_panel

    @Slot(bool)
    def _on_server_running(self, running: bool) -> None:
        port = self.server_switch.server.port if self.server_switch.server else 0
        self.server_button.setText(f"API server: on ({port})" if running else "API server: off")

    @property
    def train_tab(self) -> TrainTab:
        return cast("TrainTab", self.train_page.ensure())

    @Slot(object)
    def _on_train_tab(self, tab: TrainTab) -> None:
        tab.exported.connect(lambda _path: self.models_tab.library.refresh())
        tab.chat_requested.connect(self.chat_with)
        tab.running_changed.connect(lambda running: self._on_training("train", running))

    def _on_training(self, tab: str, running: bool) -> None:
        self._training[tab] = running
        self.engine.training = any(self._training.values())  # llama.cpp leaves it a core

    @property
    def quiz_tab(self) -> QuizTab:
        return cast("QuizTab", self.quiz_page.ensure())

    @Slot(object)
    def _on_quiz_tab(self, tab: QuizTab) -> None:
        tab.chat_tab_requested.connect(lambda: self.tabs.setCurrentWidget(self.chat_tab))
        tab.built_in_requested.connect(self.chat_tab.load_built_in)
        tab.posttrain_requested.connect(self.posttrain_on)
        tab.article_chat_requested.connect(self.chat_about_article)

    @Slot(str, str)
    def chat_about_article(self, title: str, text: str) -> None:
        """The Quiz tab's open book, as a chat: a new conversation with the article attached."""
        if self.chat_tab.open_with_document(title, text):
            self.tabs.setCurrentWidget(self.chat_tab)

    @property
    def posttrain_tab(self) -> PosttrainTab:
        return cast("PosttrainTab", self.posttrain_page.ensure())

    @Slot(object)
    def _on_posttrain_tab(self, tab: PosttrainTab) -> None:
        tab.exported.connect(lambda _path: self.models_tab.library.refresh())
        tab.chat_requested.connect(self.chat_with)
        tab.running_changed.connect(lambda running: self._on_training("posttrain", running))
        tab.quiz_again_requested.connect(self.quiz_again)
        tab.set_library([path for path, _ in self._library_models()])

    @property
    def reinforce_tab(self) -> ReinforceTab:
        return cast("ReinforceTab", self.reinforce_page.ensure())

    @Slot(object)
    def _on_reinforce_tab(self, tab: ReinforceTab) -> None:
        tab.exported.connect(lambda _path: self.models_tab.library.refresh())
        tab.chat_requested.connect(self.chat_with)
        tab.running_changed.connect(lambda running: self._on_training("reinforce", running))

    @Slot(object)
    def posttrain_on(self, training_set: QuizTrainingSet) -> None:
        """ "Post-train on this" in the Quiz tab: its training set, in the Post-train tab."""
        self.tabs.setCurrentWidget(self.posttrain_page)
        self.posttrain_tab.use_quiz_set(list(training_set.examples), training_set.quiz_run_id,
                                        training_set.model_path, training_set.title)  # fmt: skip

    @Slot(int)
    def train_on_conversation(self, conversation_id: int) -> None:
        """ "Train on this conversation" in the Chat tab: into the Post-train tab's data."""
        messages = self.store.to_openai_messages(conversation_id)
        self.tabs.setCurrentWidget(self.posttrain_page)
        self.posttrain_tab.add_conversation(messages)

    @Slot(int, str)
    def quiz_again(self, quiz_run_id: int, model_path: str) -> None:
        """The quiz that made a refusal set, asked again of the fine-tuned model (loaded in
        the Chat tab, as the quiz always asks), then the two runs compared."""
        self.chat_tab.load_model(model_path)
        self.tabs.setCurrentWidget(self.quiz_page)
        self.quiz_tab.quiz_again(quiz_run_id, model_path)

    def _library_models(self) -> list[tuple[Path, int]]:
        return [(e.path, e.size) for e in self.models_tab.library.entries if e.info]

    @Slot()
    def _on_library_changed(self) -> None:
        usable = self._library_models()
        self.chat_tab.set_library(usable)
        self.tokens_tab.set_gguf_models([path for path, _ in usable])
        if self.posttrain_page.widget is not None:
            self.posttrain_tab.set_library([path for path, _ in usable])

    def model_in_use(self, path: Path) -> bool:
        model = self.chat_tab.model
        return model is not None and Path(model.path) == path

    def visit_every_tab(self) -> int:
        for index in range(self.tabs.count()):
            self.tabs.setCurrentIndex(index)
            self.tabs.currentWidget().grab()  # paints the tab once: a broken tab fails here
        return self.tabs.count()

    @Slot()
    def show_about(self) -> None:
        from desktop.ui.about_dialog import AboutDialog

        model = self.engine.loaded_model
        dialog = AboutDialog(model.runtime if model is not None else "", self)
        dialog.open()

    @Slot()
    def toggle_lessons(self) -> None:
        if self._lessons is None:
            self._lessons = LessonsPanel(AppSettings())
            self._lessons.step_shown.connect(self.show_step)
            self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self._lessons)
            self._place_lessons(self._lessons)
            self._lessons.show()
            self._lessons.show_step(self._lessons.index)
            return
        if not self._lessons.isVisible():
            self._place_lessons(self._lessons)
        self._lessons.setVisible(not self._lessons.isVisible())

    def _place_lessons(self, panel: LessonsPanel) -> None:
        """Beside the tabs when the window has room for both; else floating over the
        window's right edge: opening the lessons never widens the window (a 1024-pixel
        projector has no room for a 1,000-pixel tab and a panel beside it)."""
        room = self.width() - self.tabs.minimumSizeHint().width()
        if room >= panel.minimumWidth():
            panel.setFloating(False)
            return
        panel.setFloating(True)
        frame = self.geometry()
        panel.resize(max(panel.minimumSizeHint().width(), 320), max(320, frame.height() - 140))
        panel.move(frame.right() - panel.width() - 16, frame.top() + 90)

    @property
    def lessons(self) -> LessonsPanel | None:
        return self._lessons

    @Slot(object)
    def show_step(self, step: Step) -> None:
        """A lesson's step: its tab, with its example in the tab's text box."""
        pages = {"models": self.models_tab, "tokens": self.tokens_tab, "train": self.train_page,
                 "chat": self.chat_tab, "quiz": self.quiz_page,
                 "posttrain": self.posttrain_page,
                 "reinforce": self.reinforce_page}  # fmt: skip
        self.tabs.setCurrentWidget(pages[step.tab])
        if step.tab == "tokens" and step.example:
            self.tokens_tab.text_page.editor.setPlainText(step.example)
        elif step.tab == "chat":
            self.chat_tab.show_lesson_step(step.example, step.mode)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.presenter.save()
        self.server_switch.stop()  # first: its requests run on the engine
        if self._compare is not None:
            self._compare.shutdown()
        AppSettings().set("lessons/shown", bool(self._lessons and self._lessons.isVisible()))
        if self.train_page.widget is not None:  # first: it waits for its step to end
            self.train_tab.shutdown()
        if self.posttrain_page.widget is not None:  # it, too, waits for its step to end
            self.posttrain_tab.shutdown()
        if self.reinforce_page.widget is not None:  # its runs, too, end at a step
            self.reinforce_tab.shutdown()
        if self.quiz_page.widget is not None:
            self.quiz_tab.shutdown()
        self.models_tab.shutdown()  # a running download pauses, to resume next time
        self.tokens_tab.shutdown()
        self.chat_tab.shutdown()
        Jobs.shutdown_all()  # then every widget's background work, from one list
        self.engine.shutdown()
        self.store.close()
        super().closeEvent(event)
