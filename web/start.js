/* start.js: the last of the page's script files (web/web.mk joins them): start the panels. */
'use strict';
OptlabPlay.ui.start();
